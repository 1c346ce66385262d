using System.Reflection;
using OrleansLocks.Client;
using OrleansLocks.Grains;

namespace OrleansLocks.Tests.Abstractions;

/// <summary>Conventions that keep stored data and the wire format stable, checked by reflection.</summary>
public sealed class ApiShapeTests
{
    private static readonly Assembly[] Assemblies =
    [
        typeof(ILockGrain).Assembly,
        typeof(LockState).Assembly,
        typeof(ILockProvider).Assembly,
        typeof(OrleansLocks.InMemory.InMemoryLockProvider).Assembly,
        typeof(OrleansLocks.Fencing.Postgres.LockFences).Assembly,
        typeof(OrleansLocks.DistributedLock.OrleansLocksDistributedLockProvider).Assembly,
    ];

    private static IEnumerable<Type> OurTypes => Assemblies
        .SelectMany(a => a.GetTypes())
        .Where(t => t.Namespace?.StartsWith("OrleansLocks", StringComparison.Ordinal) == true || t.Namespace == "Orleans.Hosting")
        .Where(t => !t.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute), false))
        .Where(t => !t.Name.Contains('<', StringComparison.Ordinal) && !t.FullName!.Contains("OrleansCodeGen", StringComparison.Ordinal));

    [Fact]
    public void Classes_AreSealedUnlessAbstractOrStatic()
    {
        Assert.Contains(typeof(LockHandle), OurTypes);
        Assert.Contains(typeof(OrleansLocks.InMemory.InMemoryLockProvider), OurTypes);
        var open = OurTypes
            .Where(t => t.IsClass && !t.IsAbstract && !t.IsSealed && t.Assembly.GetName().Name!.StartsWith("OrleansLocks", StringComparison.Ordinal))
            .Select(t => t.FullName)
            .ToList();
        Assert.Empty(open);
    }

    [Fact]
    public void GrainInterfacesAndTheirMethods_HaveAliases()
    {
        var grainInterfaces = OurTypes.Where(t => t.IsInterface && typeof(IAddressable).IsAssignableFrom(t)).ToList();
        Assert.NotEmpty(grainInterfaces);
        foreach (var type in grainInterfaces)
        {
            Assert.True(type.IsDefined(typeof(AliasAttribute)), $"{type} has no [Alias]");
            foreach (var method in type.GetMethods())
            {
                Assert.True(method.IsDefined(typeof(AliasAttribute)), $"{type}.{method.Name} has no [Alias]");
            }
        }
    }

    [Fact]
    public void SerializedTypes_HaveAliases()
    {
        var serialized = OurTypes.Where(t => t.IsDefined(typeof(GenerateSerializerAttribute))).ToList();
        Assert.Contains(typeof(LockLease), serialized);
        Assert.Contains(typeof(LockStorageException), serialized);
        Assert.All(serialized, t => Assert.True(t.IsDefined(typeof(AliasAttribute)), $"{t} has no [Alias]"));
    }

    [Theory]
    [InlineData("OrleansLocks.Grains.LockGrain", "orleanslocks.lock")]
    [InlineData("OrleansLocks.Grains.ReadWriteLockGrain", "orleanslocks.rwlock")]
    [InlineData("OrleansLocks.Grains.Sweep.LockSweeperGrain", "orleanslocks.sweeper")]
    public void GrainTypes_ArePinned(string grainClass, string grainType)
    {
        var attribute = typeof(LockState).Assembly.GetType(grainClass, throwOnError: true)!.GetCustomAttributesData()
            .Single(a => a.AttributeType == typeof(GrainTypeAttribute));
        Assert.Equal(grainType, attribute.ConstructorArguments[0].Value);
    }

    [Fact]
    public void LockHandle_HasNoPublicConstructor() => Assert.Empty(typeof(LockHandle).GetConstructors());
}
