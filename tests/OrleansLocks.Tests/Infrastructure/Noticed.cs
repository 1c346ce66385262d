namespace OrleansLocks.Tests.Infrastructure;

/// <summary>Retries a call while a just-killed silo or a just-restarted database is still being noticed by the cluster.</summary>
internal static class Noticed
{
    public static async Task<TResult> RetryAsync<TResult>(Func<Task<TResult>> call)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (Exception) when (attempt < 20)
            {
                await Task.Delay(250);
            }
        }
    }
}
