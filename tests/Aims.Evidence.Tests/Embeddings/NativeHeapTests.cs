using Aims.Evidence.Local.Embeddings;

namespace Aims.Evidence.Tests.Embeddings;

public class NativeHeapTests
{
    [Fact]
    public void Mallopt_settings_are_accepted_by_glibc_on_linux()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null ||
            Environment.GetEnvironmentVariable("AIMS_NATIVE_HEAP") is not null)
        {
            Assert.Skip("Only applies on Linux without MALLOC_ARENA_MAX / AIMS_NATIVE_HEAP in the environment.");
        }

        // glibc's mallopt returns 1 for each accepted setting; a wrong constant or entry point makes this false.
        Assert.True(NativeHeap.Configure());
        Assert.True(NativeHeap.Applied);
        Assert.True(NativeHeap.Configure()); // idempotent
    }
}
