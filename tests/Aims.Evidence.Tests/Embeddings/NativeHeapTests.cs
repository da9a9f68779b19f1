using System.Runtime.InteropServices;
using Aims.Evidence.Onnx;

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
        Assert.True(NativeHeap.Configure(new NativeHeapSettings { Arenas = 8 })); // once per process: ignored, reports the first
    }

    [Fact]
    public void Default_caps_the_arenas_and_keeps_glibc_dynamic_thresholds()
    {
        // A fixed 128 KB mmap threshold made every large tensor an mmap/munmap with fresh page faults per run.
        Assert.Equal(2, NativeHeap.Default.Arenas);
        Assert.Equal(0, NativeHeap.Default.MmapThresholdBytes);
        Assert.Equal(0, NativeHeap.Default.TrimThresholdBytes);
    }

    [Fact]
    public void Trim_returns_free_pages_inside_the_heap_on_linux()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("glibc only.");
        }

        // 8,000 blocks of 8 KB (below the mmap threshold, so carved from a malloc arena); freeing all but every 100th
        // leaves free runs of ~800 KB between live blocks, which only malloc_trim hands back.
        var blocks = new nint[8000];
        for (var i = 0; i < blocks.Length; i++)
        {
            blocks[i] = Marshal.AllocHGlobal(8192);
            Marshal.WriteByte(blocks[i], 1);
        }

        try
        {
            for (var i = 0; i < blocks.Length; i++)
            {
                if (i % 100 != 0)
                {
                    Marshal.FreeHGlobal(blocks[i]);
                    blocks[i] = 0;
                }
            }

            Assert.True(NativeHeap.Trim());
        }
        finally
        {
            foreach (var b in blocks.Where(b => b != 0))
            {
                Marshal.FreeHGlobal(b);
            }
        }
    }
}
