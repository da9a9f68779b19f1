using System.Runtime.InteropServices;

namespace Aims.Evidence.Local.Embeddings;

/// <summary>
/// glibc malloc settings for the ONNX embedding path, applied once before the first ONNX Runtime session starts its
/// worker threads. Without its memory arena, ONNX Runtime mallocs and frees every intermediate tensor of every run
/// (attention buffers of tens of MB for batches of long passages). glibc gives each thread its own arena (up to 8 per
/// core) and raises its mmap threshold up to 32 MB after the first large free, so these buffers are carved from
/// per-thread heaps that fragment and are not returned to the system: the working set grows through a long document.
/// We cap the arenas at 2 and pin the mmap threshold at 128 KB, so large buffers are mapped and unmapped per run.
/// This is what the MALLOC_ARENA_MAX / MALLOC_MMAP_THRESHOLD_ environment variables do, but from inside the process.
/// </summary>
public static partial class NativeHeap
{
    // glibc <malloc.h>
    private const int MmapThreshold = -3; // M_MMAP_THRESHOLD
    private const int ArenaMax = -8; // M_ARENA_MAX

    private static int _applied;

    /// <summary>Arenas allowed after <see cref="Configure"/>.</summary>
    public const int Arenas = 2;

    /// <summary>Allocations of at least this many bytes are served by mmap after <see cref="Configure"/>.</summary>
    public const int MmapThresholdBytes = 128 * 1024;

    /// <summary>
    /// Applies the settings once per process on Linux with glibc (true when they were accepted). Elsewhere, or when
    /// AIMS_NATIVE_HEAP=default is set, or when the caller already set MALLOC_ARENA_MAX, nothing is changed.
    /// </summary>
    public static bool Configure()
    {
        if (Interlocked.Exchange(ref _applied, 1) == 1)
        {
            return Applied;
        }

        if (!OperatingSystem.IsLinux() ||
            string.Equals(Environment.GetEnvironmentVariable("AIMS_NATIVE_HEAP"), "default", StringComparison.OrdinalIgnoreCase) ||
            Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null)
        {
            return false;
        }

        try
        {
            // mallopt returns 1 on success, 0 on error; musl and other libcs without it throw EntryPointNotFound.
            Applied = Mallopt(ArenaMax, Arenas) == 1 & Mallopt(MmapThreshold, MmapThresholdBytes) == 1;
        }
        catch (EntryPointNotFoundException)
        {
            Applied = false;
        }
        catch (DllNotFoundException)
        {
            Applied = false;
        }

        return Applied;
    }

    /// <summary>True once <see cref="Configure"/> has changed the settings in this process.</summary>
    public static bool Applied { get; private set; }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int Mallopt(int param, int value);
}
