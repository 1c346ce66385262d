using System.Net;
using Orleans.Configuration;
using Orleans.Hosting;
using OrleansLocks;
using OrleansLocks.Grains;

namespace OrleansLocks.Silo;

/// <summary>
/// Builds the OrleansLocks service: a silo hosting the lock grains, co-hosted in an ASP.NET Core web
/// application that serves its health and metrics endpoints (<see cref="SiloEndpoints"/>), configured
/// only from appsettings*.json, environment variables (e.g. ConnectionStrings__OrleansLocks,
/// Orleans__SiloPort, ASPNETCORE_URLS) and the command line. Program.cs runs what this builds; tests
/// build it the same way to check what the host resolves.
/// </summary>
internal static class SiloHost
{
    /// <summary>
    /// Where the HTTP endpoints listen when nothing else is configured: a fixed localhost port for
    /// development. <c>--urls</c>, <c>ASPNETCORE_URLS</c>, <c>ASPNETCORE_HTTP_PORTS</c> (set to 8080 by
    /// the aspnet container image) or a <c>Kestrel:Endpoints</c> section replace it.
    /// </summary>
    public const string DefaultUrls = "http://localhost:5080";

    /// <summary>Builds the host without starting it.</summary>
    /// <exception cref="SiloConfigurationException">A setting breaks a rule that binding cannot check.</exception>
    public static WebApplication Build(string[] args)
    {
        // appsettings*.json are read from the build output, so `dotnet run --project Silo` finds them
        // whatever the current directory is.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        var configuration = builder.Configuration;
        if (string.IsNullOrWhiteSpace(configuration["urls"])
            && string.IsNullOrWhiteSpace(configuration["http_ports"])
            && string.IsNullOrWhiteSpace(configuration["https_ports"])
            && !configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            builder.WebHost.UseUrls(DefaultUrls);
        }
        // A console that cannot keep up (a full pipe, a stalled log shipper) drops log lines rather
        // than stop the silo: with the default (wait), every thread that logs waits once the queue
        // is full, and at a silo loss under 100,000 locks Orleans' warning per expired message filled
        // it within seconds and stalled both surviving silos.
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.QueueFullMode = Microsoft.Extensions.Logging.Console.ConsoleLoggerQueueFullMode.DropWrite);

        var connectionString = configuration.GetConnectionString("OrleansLocks");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            connectionString = null;
        }

        // The storage's connection string has one place, ConnectionStrings:OrleansLocks. One given as
        // OrleansLocks:Storage:ConnectionString would be ignored, and a cluster of silos each on its
        // own in-memory storage grants one lock once per silo: refuse it (never echoing the value).
        if (!string.IsNullOrWhiteSpace(configuration[$"{LockStorageOptions.SectionName}:{nameof(LockStorageOptions.ConnectionString)}"]))
        {
            throw new SiloConfigurationException(
                $"{LockStorageOptions.SectionName}:ConnectionString is not read by the Silo host; give the PostgreSQL connection string as ConnectionStrings:OrleansLocks (environment: ConnectionStrings__OrleansLocks).");
        }

        // The name the lock storage is registered under: read here, as the registration needs it
        // before any options exist.
        var storageProviderName = configuration[$"{LockStorageOptions.SectionName}:{nameof(LockStorageOptions.StorageProviderName)}"]
            ?? LockStorageOptions.DefaultStorageProviderName;
        if (string.IsNullOrWhiteSpace(storageProviderName))
        {
            throw new SiloConfigurationException($"{LockStorageOptions.SectionName}:StorageProviderName must be a non-empty name (was '{storageProviderName}').");
        }

        var cluster = configuration.GetSection("Orleans");
        var clusterId = cluster["ClusterId"] ?? "orleanslocks";
        var serviceId = cluster["ServiceId"] ?? "orleanslocks";
        var siloPort = cluster.GetValue("SiloPort", EndpointOptions.DEFAULT_SILO_PORT);
        var gatewayPort = cluster.GetValue("GatewayPort", EndpointOptions.DEFAULT_GATEWAY_PORT);
        IPAddress? advertisedIp = null;
        if (cluster["AdvertisedIP"] is { Length: > 0 } advertised && !IPAddress.TryParse(advertised, out advertisedIp))
        {
            throw new SiloConfigurationException($"Orleans:AdvertisedIP must be an IP address (such as 10.0.0.5), but is '{advertised}'.");
        }

        var tracing = SiloTelemetry.TracesExported(configuration);
        builder.UseOrleans(silo =>
        {
            if (tracing && !configuration.GetValue<bool>("Orleans:EnableDistributedTracing"))
            {
                // Spans for grain calls, linked across silos and clients; only when traces go somewhere,
                // and once (Orleans' own setting turns it on too; twice would double every span).
                silo.AddActivityPropagation();
            }

            if (connectionString is null)
            {
                // Development default: one silo on localhost, in-memory lock storage (logged at start).
                silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: serviceId, clusterId: clusterId);
            }
            else
            {
                silo.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = clusterId;
                    o.ServiceId = serviceId;
                });
                if (advertisedIp is null)
                {
                    silo.ConfigureEndpoints(siloPort, gatewayPort, listenOnAnyHostAddress: true);
                }
                else
                {
                    silo.ConfigureEndpoints(advertisedIp, siloPort, gatewayPort, listenOnAnyHostAddress: true);
                }

                silo.UseAdoNetClustering(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = connectionString;
                });
                silo.UseAdoNetReminderService(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = connectionString;
                });
                silo.Services.AddOptions<ClusterMembershipOptions>().BindConfiguration("Orleans:Membership");
            }

            // The lock options bind themselves from OrleansLocks:Lease, :Wait and :Storage; only the
            // storage choice and the provider's registration name are made here.
            var locks = silo.AddOrleansLocks();
            if (connectionString is null)
            {
                locks.UseInMemory(storageProviderName);
            }
            else
            {
                locks.UsePostgres(connectionString, storageProviderName);
            }
        });

        builder.Services.AddHealthChecks().AddOrleansLocks();
        SiloTelemetry.Add(builder.Services, configuration, tracing);

        var app = builder.Build();
        SiloEndpoints.Map(app);
        Admin.AdminEndpoints.Map(app);
        return app;
    }
}

/// <summary>A setting of the Silo host that breaks a rule; the message names the rule and the value.</summary>
internal sealed class SiloConfigurationException(string message) : Exception(message);
