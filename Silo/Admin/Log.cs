using System.Net;

namespace OrleansLocks.Silo.Admin;

/// <summary>The admin HTTP API's log events (event ids 3100 to 3199). Never a key, never a token.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 3100, Level = LogLevel.Information, Message = "The admin HTTP API ({ApiPath}) and the operator page ({PagePath}) are on; every call needs the admin key")]
    public static partial void AdminApiOn(ILogger logger, string apiPath, string pagePath);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "The admin HTTP API and the operator page are off: set OrleansLocks:Admin:ApiKey to switch them on")]
    public static partial void AdminApiOff(ILogger logger);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "Admin HTTP call to {Method} {Path} from {RemoteAddress} refused (401): the admin key was missing or wrong")]
    public static partial void AdminKeyRefused(ILogger logger, string method, string path, IPAddress? remoteAddress);
}
