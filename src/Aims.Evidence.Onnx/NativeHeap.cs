using System.Runtime.InteropServices;

namespace Aims.Evidence.Onnx;

/// <summary>glibc malloc settings applied by <see cref="NativeHeap.Configure(NativeHeapSettings)"/>.</summary>
public sealed record NativeHeapSettings
{
    /// <summary>M_ARENA_MAX: malloc arenas allowed (0 leaves glibc's default of 8 per core).</summary>
    public int Arenas { get; init; }

    /// <summary>
    /// M_MMAP_THRESHOLD in bytes: allocations at least this large are served by mmap and unmapped on free. 0 leaves
    /// glibc's dynamic threshold (starts at 128 KB, rises to the size of each large block freed, up to 32 MB). Setting
    /// it also fixes the trim threshold at twice the value and stops the dynamic adjustment.
    /// </summary>
    public int MmapThresholdBytes { get; init; }

    /// <summary>M_TRIM_THRESHOLD in bytes (0 leaves glibc's default).</summary>
    public int TrimThresholdBytes { get; init; }
}

/// <summary>
/// glibc malloc settings for the ONNX embedding path, applied once before the first ONNX Runtime session starts its
/// worker threads. glibc gives each thread its own malloc arena (up to 8 per core); freed native memory stays in the
/// arena of the thread that used it, so the heap grows with the number of threads. <see cref="Configure()"/> caps the
/// arenas at 2, like MALLOC_ARENA_MAX=2 in the environment but from inside the process, and leaves glibc's dynamic
/// mmap threshold alone.
/// </summary>
/// <remarks>
/// An earlier default also pinned M_MMAP_THRESHOLD at 128 KB, for ONNX Runtime with its memory arena off (every tensor
/// malloc'd and freed per run). In interleaved runs on the 77-page audit report's passages (every third one), that
/// path embedded 1.4-1.6 passages/s with the pinned threshold and 1.8-2.2 without it, with over a third of its CPU
/// time in the kernel either way; the same generator with the arena on and batches bounded by
/// <see cref="LocalEmbeddingOptions.MaxBatchChars"/> embedded all 324 passages at about 40 passages/s under a lower
/// peak. So the embedding path now keeps the arena on, and this class only caps the arenas; with the arena off
/// (opt-out) the generator calls <see cref="Trim"/> after each run.
/// </remarks>
public static partial class NativeHeap
{
    // glibc <malloc.h>
    private const int TrimThreshold = -1; // M_TRIM_THRESHOLD
    private const int MmapThreshold = -3; // M_MMAP_THRESHOLD
    private const int ArenaMax = -8; // M_ARENA_MAX

    private static int _applied;
    private static bool _noTrim;

    /// <summary>Arenas allowed after <see cref="Configure()"/>.</summary>
    public const int Arenas = 2;

    /// <summary>The settings <see cref="Configure()"/> applies: <see cref="Arenas"/> arenas, glibc's own mmap and trim
    /// thresholds.</summary>
    public static NativeHeapSettings Default { get; } = new() { Arenas = Arenas };

    /// <summary>
    /// Applies <see cref="Default"/> once per process on Linux with glibc (true when they were accepted). Elsewhere, or
    /// when AIMS_NATIVE_HEAP=default is set, or when the caller already set MALLOC_ARENA_MAX, nothing is changed.
    /// </summary>
    public static bool Configure()
    {
        if (string.Equals(Environment.GetEnvironmentVariable("AIMS_NATIVE_HEAP"), "default", StringComparison.OrdinalIgnoreCase) ||
            Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null)
        {
            Interlocked.Exchange(ref _applied, 1);
            return Applied;
        }

        return Configure(Default);
    }

    /// <summary>Applies <paramref name="settings"/> if no settings were applied in this process yet (Linux, glibc).</summary>
    public static bool Configure(NativeHeapSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (Interlocked.Exchange(ref _applied, 1) == 1)
        {
            return Applied;
        }

        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            // mallopt returns 1 on success, 0 on error; musl and other libcs without it throw EntryPointNotFound.
            var ok = true;
            if (settings.Arenas > 0)
            {
                ok &= Mallopt(ArenaMax, settings.Arenas) == 1;
            }

            if (settings.MmapThresholdBytes > 0)
            {
                ok &= Mallopt(MmapThreshold, settings.MmapThresholdBytes) == 1;
            }

            if (settings.TrimThresholdBytes > 0)
            {
                ok &= Mallopt(TrimThreshold, settings.TrimThresholdBytes) == 1;
            }

            Applied = ok;
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

    /// <summary>True once <see cref="Configure()"/> or <see cref="Configure(NativeHeapSettings)"/> has changed the
    /// settings in this process.</summary>
    public static bool Applied { get; private set; }

    /// <summary>
    /// glibc <c>malloc_trim(0)</c>: returns free memory at the top of every malloc arena, and free whole pages inside
    /// them, to the system. True when memory was released; false when there was none, off Linux, or without glibc.
    /// </summary>
    public static bool Trim()
    {
        if (!OperatingSystem.IsLinux() || Volatile.Read(ref _noTrim))
        {
            return false;
        }

        try
        {
            return MallocTrim(0) == 1;
        }
        catch (EntryPointNotFoundException)
        {
            Volatile.Write(ref _noTrim, true);
        }
        catch (DllNotFoundException)
        {
            Volatile.Write(ref _noTrim, true);
        }

        return false;
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int Mallopt(int param, int value);

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
