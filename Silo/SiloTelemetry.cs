using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace OrleansLocks.Silo;

/// <summary>
/// The silo's OpenTelemetry wiring: the OrleansLocks and Orleans meters, served as Prometheus text on
/// <c>/metrics</c> and exported over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set; the
/// OrleansLocks and Orleans activity sources, exported over OTLP only (with nowhere to send them,
/// no spans are made at all).
/// </summary>
internal static class SiloTelemetry
{
    /// <summary>The meters the silo exports: OrleansLocks' own and Orleans'.</summary>
    public static readonly string[] Meters = ["OrleansLocks", "Microsoft.Orleans"];

    /// <summary>
    /// The activity sources the silo exports: OrleansLocks' own, and both of Orleans' grain-call
    /// sources (lock grains are filed under the runtime one, as their namespace starts with "Orleans").
    /// </summary>
    public static readonly string[] Sources = ["OrleansLocks", "Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application"];

    /// <summary>The standard OpenTelemetry setting that turns OTLP export on.</summary>
    public const string OtlpEndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The service name telemetry carries unless <c>OTEL_SERVICE_NAME</c> names another.</summary>
    public const string DefaultServiceName = "orleanslocks-silo";

    /// <summary>Whether traces (and the OTLP exporter) are on: <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.</summary>
    public static bool TracesExported(IConfiguration configuration) => !string.IsNullOrWhiteSpace(configuration[OtlpEndpointSetting]);

    /// <summary>Registers the meters, the Prometheus exporter and, when <paramref name="otlp"/>, the sources and the OTLP exporter.</summary>
    public static void Add(IServiceCollection services, IConfiguration configuration, bool otlp)
    {
        var serviceName = configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } named ? named : DefaultServiceName;
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithMetrics(metrics => metrics.AddMeter(Meters).AddPrometheusExporter());
        if (otlp)
        {
            telemetry.WithTracing(traces => traces.AddSource(Sources));

            // Reads the endpoint, protocol and headers from the standard OTEL_EXPORTER_OTLP_* settings.
            telemetry.UseOtlpExporter();
        }
    }
}
