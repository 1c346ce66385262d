using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Hosting;
using OrleansLocks;
using OrleansLocks.Grains;

// The OrleansLocks service: a silo hosting the lock grains, configured only from appsettings*.json
// and environment variables (e.g. ConnectionStrings__OrleansLocks, Orleans__SiloPort).
// appsettings*.json are read from the build output, so `dotnet run --project Silo` finds them
// whatever the current directory is.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory,
});
var configuration = builder.Configuration;
var connectionString = configuration.GetConnectionString("OrleansLocks");
if (string.IsNullOrWhiteSpace(connectionString))
{
    connectionString = null;
}

var cluster = configuration.GetSection("Orleans");
var clusterId = cluster["ClusterId"] ?? "orleanslocks";
var serviceId = cluster["ServiceId"] ?? "orleanslocks";
var siloPort = cluster.GetValue("SiloPort", EndpointOptions.DEFAULT_SILO_PORT);
var gatewayPort = cluster.GetValue("GatewayPort", EndpointOptions.DEFAULT_GATEWAY_PORT);
IPAddress? advertisedIp = null;
if (cluster["AdvertisedIP"] is { Length: > 0 } advertised && !IPAddress.TryParse(advertised, out advertisedIp))
{
    return Refuse($"Orleans:AdvertisedIP must be an IP address (such as 10.0.0.5), but is '{advertised}'.");
}

builder.UseOrleans(silo =>
{
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
        silo.Configure<ClusterMembershipOptions>(cluster.GetSection("Membership"));
    }

    silo.AddOrleansLocks(
        storage =>
        {
            configuration.GetSection("OrleansLocks:Storage").Bind(storage);
            storage.ConnectionString = connectionString;
        },
        lease => configuration.GetSection(LockLeaseOptions.SectionName).Bind(lease),
        wait => configuration.GetSection(LockWaitOptions.SectionName).Bind(wait));
});

try
{
    await builder.Build().RunAsync();
    return 0;
}
catch (OptionsValidationException ex)
{
    return Refuse(ex.Message);
}
catch (AggregateException ex) when (ex.InnerExceptions.All(IsConfigurationError))
{
    return Refuse(string.Join(" ", ex.InnerExceptions.Select(e => e.Message)));
}
catch (InvalidOperationException ex) when (IsConfigurationError(ex))
{
    return Refuse(ex.Message);
}

// A value that is not even of the option's type (e.g. "soon" for a TimeSpan) fails in binding.
static bool IsConfigurationError(Exception ex) =>
    ex is OptionsValidationException
    || (ex is InvalidOperationException && ex.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal));

// A configuration mistake: say which rule it breaks and exit with 1, without a stack trace.
static int Refuse(string reason)
{
    Console.Error.WriteLine($"OrleansLocks cannot start: {reason}");
    return 1;
}
