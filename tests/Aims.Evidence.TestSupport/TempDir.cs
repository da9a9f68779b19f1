namespace Aims.Evidence.TestSupport;

/// <summary>A temporary folder removed on dispose (best effort).</summary>
public sealed class TempDir : IDisposable
{
    public TempDir(string prefix = "aims-tests-")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>A database file path in the folder (not created).</summary>
    public string Db => System.IO.Path.Combine(Path, "aims.db");

    /// <summary>A path in the folder (not created).</summary>
    public string Combine(string name) => System.IO.Path.Combine(Path, name);

    public string File(string name, string content)
    {
        var path = Combine(name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    public string File(string name, byte[] content)
    {
        var path = Combine(name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllBytes(path, content);
        return path;
    }

    public void Dispose() => Delete(Path);

    /// <summary>Deletes a folder and what it holds; a folder still in use stays (temporary folders are not worth a failed test).</summary>
    public static void Delete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
