using System.Reflection;

namespace OrleansLocks.Testing;

/// <summary>Finds the built output of one of this repository's programs (the Silo host, the chaos and benchmark programs).</summary>
public static class BuiltProgram
{
    /// <summary>
    /// The path of <paramref name="assemblyFile"/> in <paramref name="projectFolder"/>'s build output, for the
    /// configuration the calling assembly was built in.
    /// </summary>
    /// <param name="projectFolder">The project's folder relative to the repository root, e.g. <c>Silo</c>.</param>
    /// <param name="assemblyFile">The program's file name, e.g. <c>OrleansLocks.Silo.dll</c>.</param>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    public static string PathOf(string projectFolder, string assemblyFile)
    {
        var configuration = Assembly.GetCallingAssembly().GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "OrleansLocks.sln")))
        {
            directory = directory.Parent;
        }

        if (directory is null)
        {
            throw new DirectoryNotFoundException($"OrleansLocks.sln was not found above {AppContext.BaseDirectory}.");
        }

        var path = Path.Combine(directory.FullName, projectFolder, "bin", configuration, "net10.0", assemblyFile);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{assemblyFile} was not built: {path} is missing.", path);
    }
}
