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
    /// such a link is listed itself. Hidden and system entries are left out when <paramref name="skipHidden"/>.
    /// </summary>
    public static IEnumerable<string> EnumerateFolder(string root, bool skipHidden)
    {
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            IgnoreInaccessible = true,
            AttributesToSkip = skipHidden ? FileAttributes.Hidden | FileAttributes.System : 0,
        };
        return new FileSystemEnumerable<string>(root, (ref FileSystemEntry entry) => entry.ToFullPath(), options)
        {
            ShouldIncludePredicate = (ref FileSystemEntry entry) => !entry.IsDirectory || (entry.Attributes & FileAttributes.ReparsePoint) != 0,
            ShouldRecursePredicate = (ref FileSystemEntry entry) => (entry.Attributes & FileAttributes.ReparsePoint) == 0,
        };
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
