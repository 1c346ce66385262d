using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace OrleansLocks.Grains.Admin;

/// <summary>Wraps the in-memory lock storage in <see cref="IndexedGrainStorage"/>, so the admin list can find its locks.</summary>
internal static class IndexedGrainStorageRegistration
{
    /// <summary>Replaces the keyed <see cref="IGrainStorage"/> registered as <paramref name="name"/> with one that wraps it.</summary>
    /// <exception cref="InvalidOperationException">No grain storage is registered under <paramref name="name"/> with a factory.</exception>
    public static void Decorate(IServiceCollection services, string name)
    {
        var registered = services.LastOrDefault(d => d.ServiceType == typeof(IGrainStorage) && d.IsKeyedService && Equals(d.ServiceKey, name))
            ?? throw new InvalidOperationException($"No grain storage named '{name}' is registered to index.");
        var create = registered.KeyedImplementationFactory
            ?? throw new InvalidOperationException($"The grain storage named '{name}' is not registered with a factory, so it cannot be indexed.");
        services.Remove(registered);
        services.AddKeyedSingleton<IGrainStorage>(name, (sp, key) =>
            new IndexedGrainStorage((IGrainStorage)create(sp, key), sp.GetRequiredService<IGrainFactory>()));
    }
}
