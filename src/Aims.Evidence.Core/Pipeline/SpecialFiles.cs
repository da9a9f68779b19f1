using System.IO.Enumeration;
using System.Runtime.InteropServices;
using System.Text;

namespace Aims.Evidence.Core.Pipeline;

/// <summary>
/// Only regular files are read from a folder. A FIFO blocks whoever opens it until someone writes to it, a device
/// or socket is not a document, and a symbolic link may point anywhere (<c>/etc/passwd</c>): these are recorded as
/// skipped with their kind and never opened.
/// </summary>
public static class SpecialFiles
{
    /// <summary>
    /// Null for a regular file (or a path that no longer exists); otherwise what it is: "symbolic link", "FIFO",
    /// "socket", "character device", "block device" or "directory". Read with lstat: links are not followed and
    /// nothing is opened.
    /// </summary>
    public static string? Kind(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!OperatingSystem.IsWindows())
        {
            try
            {
                // .NET reports FIFOs, sockets and devices as FileAttributes.Normal, like regular files
                // (dotnet/runtime#62868), so the type comes from lstat, through the runtime's own native shim
                // (the first two fields of its FileStatus are Flags and Mode, with POSIX S_IFMT values).
                if (LStat(Encoding.UTF8.GetBytes(path + '\0'), out var status) != 0)
                {
                    return null;
                }

                return (status.Mode & 0xF000) switch
                {
                    0x8000 => null,
                    0xA000 => "symbolic link",
                    0x1000 => "FIFO",
                    0xC000 => "socket",
                    0x2000 => "character device",
                    0x6000 => "block device",
                    0x4000 => "directory",
                    _ => "unknown file type",
                };
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
            {
                // No shim (never seen on a framework-dependent .NET): links are still recognised below.
            }
        }

        try
        {
            var attributes = File.GetAttributes(path);
            return (attributes & FileAttributes.ReparsePoint) != 0 ? "symbolic link" : (attributes & FileAttributes.Directory) != 0 ? "directory" : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The reason recorded for a path of the given <see cref="Kind"/>.</summary>
    public static string SkipReason(string kind) => $"not a regular file ({kind}); not read";

    /// <summary>
    /// Everything under <paramref name="root"/> that is not a directory (regular files, links, FIFOs, sockets, devices),
    /// recursively, never descending into a symbolic link to a directory (which could lead outside the folder or loop);
    /// such a link is listed itself. Hidden and system entries are left out when <paramref name="skipHidden"/>. A folder
    /// that cannot be read (no permission, gone) is passed to <paramref name="unreadable"/> with the reason, never
    /// skipped in silence; the rest is still listed.
    /// </summary>
    public static IEnumerable<string> EnumerateFolder(string root, bool skipHidden, Action<string, string>? unreadable = null)
    {
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = false,
            IgnoreInaccessible = false,
            AttributesToSkip = skipHidden ? FileAttributes.Hidden | FileAttributes.System : 0,
        };
        var folders = new Stack<string>();
        folders.Push(root);
        while (folders.Count > 0)
        {
            var folder = folders.Pop();
            var entries = new List<(string Path, bool Descend)>();
            try
            {
                // A link to a folder is listed (to be recorded as skipped), not entered.
                var listing = new FileSystemEnumerable<(string, bool)>(
                    folder,
                    (ref FileSystemEntry entry) => (entry.ToFullPath(), entry.IsDirectory && (entry.Attributes & FileAttributes.ReparsePoint) == 0),
                    options);
                foreach (var entry in listing)
                {
                    entries.Add(entry);
                }
            }
            catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
            {
                unreadable?.Invoke(folder, ex.Message);
            }

            foreach (var (path, descend) in entries)
            {
                if (descend)
                {
                    folders.Push(path);
                }
                else
                {
                    yield return path;
                }
            }
        }
    }

    [DllImport("libSystem.Native", EntryPoint = "SystemNative_LStat", SetLastError = true)]
    private static extern int LStat(byte[] path, out NativeFileStatus status);

    /// <summary>The leading fields of System.Native's FileStatus, with room for the rest of it.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 256)]
    private struct NativeFileStatus
    {
        public int Flags;
        public int Mode;
    }
}
