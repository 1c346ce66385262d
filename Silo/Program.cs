using Microsoft.Extensions.Options;
using OrleansLocks.Grains;
using OrleansLocks.Silo;

// `--probe <url>`: a health probe for containers without curl (see SiloProbe), not a silo.
if (args is ["--probe", .. var probe])
{
    return await SiloProbe.RunAsync(probe.FirstOrDefault());
}

// The OrleansLocks service; SiloHost says how it is built and configured.
try
{
    await SiloHost.Build(args).RunAsync();
    return 0;
}
catch (SiloConfigurationException ex)
{
    return Refuse(ex.Message);
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
catch (Exception ex) when (SchemaRefusal(ex) is { } refusal)
{
    return Refuse(refusal.Message);
}
catch (IOException ex) when (ex.Message.StartsWith("Failed to bind to address", StringComparison.Ordinal))
{
    // Kestrel could not listen where configured (a port in use): name the address and the settings.
    return Refuse($"{ex.Message} Choose another with --urls, ASPNETCORE_URLS or ASPNETCORE_HTTP_PORTS.");
}

// A value that is not even of the option's type (e.g. "soon" for a TimeSpan) fails in binding.
static bool IsConfigurationError(Exception ex) =>
    ex is OptionsValidationException
    || (ex is InvalidOperationException && ex.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal));

// The database lacks the schema version this silo needs; Orleans' start-up wraps the refusal.
static LockSchemaVersionException? SchemaRefusal(Exception ex) => ex switch
{
    LockSchemaVersionException refusal => refusal,
    AggregateException aggregate => aggregate.InnerExceptions.Select(SchemaRefusal).FirstOrDefault(r => r is not null),
    { InnerException: { } inner } => SchemaRefusal(inner),
    _ => null,
};

// A configuration mistake: say which rule it breaks and exit with 1, without a stack trace.
static int Refuse(string reason)
{
    Console.Error.WriteLine($"OrleansLocks cannot start: {reason}");
    return 1;
}
