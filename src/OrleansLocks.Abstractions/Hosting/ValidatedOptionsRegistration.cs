using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace OrleansLocks.Hosting;

/// <summary>How the silo and client extensions register an options type; one copy for both.</summary>
internal static class ValidatedOptionsRegistration
{
    /// <summary>
    /// Binds <typeparamref name="TOptions"/> from <paramref name="sectionName"/>, then applies
    /// <paramref name="configure"/>; validates it at start; lets Orleans' options formatter log it at
    /// start (<c>[Redact]</c> hides secrets there).
    /// </summary>
    public static void AddValidatedOptions<TOptions, TValidator>(this IServiceCollection services, string sectionName, Action<TOptions>? configure)
        where TOptions : class, new()
        where TValidator : class, IValidateOptions<TOptions>
    {
        // Bound once per options type: a silo that also hosts the client registers the lease options
        // twice, and a second binding would undo the first caller's delegate for every key the
        // configuration sets. BindConfiguration leaves its change-token source behind as the mark.
        var options = services.AddOptionsWithValidateOnStart<TOptions>();
        if (!services.Any(d => d.ServiceType == typeof(IOptionsChangeTokenSource<TOptions>)))
        {
            options.BindConfiguration(sectionName);
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
        services.ConfigureFormatter<TOptions>();
    }
}
