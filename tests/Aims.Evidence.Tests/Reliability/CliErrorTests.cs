using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Aims.Evidence.Cli;

namespace Aims.Evidence.Tests.Reliability;

/// <summary>
/// Every CLI error is one line on stderr with exit 2 (usage) or 1 (environment), never an unhandled exception, and a
/// read command never creates a database. Each case runs the built <c>aims.dll</c> as a child process.
/// </summary>
[Trait(Tiers.Name, Tiers.Slow)]
public sealed class CliErrorTests
{
    private const string GoodText = """
        # AI Risk Management Procedure

        The organisation identifies risks arising from the use of artificial intelligence systems and records them
        in a risk register. Every risk has an owner who approves the treatment plan before the system is deployed.
        """;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed record Run(int Code, string Out, string Err)
    {
        public string ErrLine
        {
            get
            {
                var lines = Err.TrimEnd('\r', '\n').Split('\n');
                Assert.True(lines.Length == 1 && lines[0].Length > 0, $"stderr is not one line:\n{Err}");
                Assert.DoesNotContain("Unhandled exception", Out + Err, StringComparison.Ordinal);
                Assert.DoesNotContain("   at ", Out + Err, StringComparison.Ordinal);
                return lines[0];
            }
        }
    }

    /// <summary>Runs <c>dotnet aims.dll args</c> in <paramref name="workingDirectory"/>; <paramref name="prefix"/> wraps it (e.g. setpriv).</summary>
    private static async Task<Run> RunAimsAsync(string workingDirectory, string[] args, string[]? prefix = null)
    {
        var run = await BuiltCli.RunAimsAsync(args, workingDirectory, prefix, new Dictionary<string, string?> { ["HOME"] = workingDirectory, ["AIMS_DEBUG"] = null });
        return new Run(run.Code, run.Out, run.Err);
    }

    private static string[] Entries(string folder) =>
        Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(folder, p)).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task A_db_naming_a_pdf_a_folder_or_nothing_is_one_line_and_never_an_unhandled_exception()
    {
        using var tmp = new TempDir();
        var pdfBytes = Encoding.ASCII.GetBytes("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");
        var pdf = tmp.File("report.pdf", pdfBytes);
        var folder = Path.Combine(tmp.Path, "folder.db");
        Directory.CreateDirectory(folder);
        var doc = tmp.File("docs/policy.md", GoodText);
        var before = Entries(tmp.Path);

        foreach (var args in new[] { new[] { "status" }, ["gaps", "--json"], ["ingest", doc, "--mapper", "lexical"], ["keys", "create", "--role", "reader"] })
        {
            // A PDF (not SQLite): exit 134 with SqliteException 'file is not a database' before.
            var onPdf = await RunAimsAsync(tmp.Path, [.. args, "--db", pdf]);
            Assert.Equal(ExitCodes.Error, onPdf.Code);
            Assert.Equal($"error: not an aims database: {pdf} is not a SQLite file", onPdf.ErrLine);

            // A folder: exit 134 with 'unable to open database file' before.
            var onFolder = await RunAimsAsync(tmp.Path, [.. args, "--db", folder]);
            Assert.Equal(ExitCodes.Error, onFolder.Code);
            Assert.Equal($"error: --db names a folder, not a database file: {folder}", onFolder.ErrLine);

            // Nothing: exit 134 with an ArgumentException before.
            var empty = await RunAimsAsync(tmp.Path, [.. args, "--db", string.Empty]);
            Assert.Equal(ExitCodes.Usage, empty.Code);
            Assert.Equal("error: --db is empty; name the database file, e.g. --db aims.db", empty.ErrLine);
        }

        // Nothing was created or changed: no database, no -wal/-shm, the PDF's bytes as they were.
        Assert.Equal(before, Entries(tmp.Path));
        Assert.Equal(pdfBytes, await File.ReadAllBytesAsync(pdf, Ct));

        // The demo deletes and recreates its database: never a PDF it was pointed at.
        var demo = await RunAimsAsync(tmp.Path, ["demo", "--samples", Path.Combine(tmp.Path, "docs"), "--db", pdf]);
        Assert.Equal(ExitCodes.Error, demo.Code);
        Assert.Contains("is not a SQLite file", demo.ErrLine, StringComparison.Ordinal);
        Assert.Equal(pdfBytes, await File.ReadAllBytesAsync(pdf, Ct));
    }

    [Fact]
    public async Task Read_commands_with_a_missing_database_say_so_and_create_nothing()
    {
        using var tmp = new TempDir();
        var missing = Path.Combine(tmp.Path, "typo.db");
        var missingInFolder = Path.Combine(tmp.Path, "no-such-folder", "aims.db");
        string[][] reads = [["status"], ["status", "--json"], ["controls"], ["gaps"], ["gaps", "--json"], ["search", "risk register"], ["export", "passages"], ["export", "passages", "--out", Path.Combine(tmp.Path, "out.jsonl")]];
        foreach (var db in new[] { missing, missingInFolder })
        {
            foreach (var args in reads)
            {
                // Before: an empty database was created and everything reported missing, exit 0.
                var run = await RunAimsAsync(tmp.Path, [.. args, "--db", db]);
                Assert.Equal(ExitCodes.Error, run.Code);
                Assert.Equal($"error: no such database: {db} (run aims ingest first)", run.ErrLine);
                Assert.Equal(string.Empty, run.Out);
            }
        }

        Assert.Empty(Entries(tmp.Path));

        // The positive control: after an ingest the same read works.
        var doc = tmp.File("docs/policy.md", GoodText);
        Assert.Equal(ExitCodes.Ok, (await RunAimsAsync(tmp.Path, ["ingest", doc, "--db", missing, "--mapper", "lexical"])).Code);
        var status = await RunAimsAsync(tmp.Path, ["status", "--json", "--db", missing]);
        Assert.Equal(ExitCodes.Ok, status.Code);
        using var json = JsonDocument.Parse(status.Out);
        Assert.Equal(1, json.RootElement.GetProperty("totals").GetProperty("documents").GetInt32());
    }

    [Fact]
    public async Task An_unknown_command_is_one_line_naming_it_with_exit_2()
    {
        using var tmp = new TempDir();
        var run = await RunAimsAsync(tmp.Path, ["frobnicate"]);
        Assert.Equal(ExitCodes.Usage, run.Code);
        var line = run.ErrLine;
        Assert.StartsWith("error: Unrecognized command or argument 'frobnicate'.", line, StringComparison.Ordinal);
        Assert.DoesNotContain("Required command was not provided", line, StringComparison.Ordinal); // printed first before
        Assert.EndsWith("Run 'aims --help' for usage.", line, StringComparison.Ordinal);

        // The benchmarks and the soak are aims-tools' (tools/Aims.Evidence.Tools), not a command of aims.
        var bench = await RunAimsAsync(tmp.Path, ["bench", "soak"]);
        Assert.Equal(ExitCodes.Usage, bench.Code);
        Assert.StartsWith("error: Unrecognized command or argument 'bench'.", bench.ErrLine, StringComparison.Ordinal);

        // Without any command, the missing command is the message.
        var none = await RunAimsAsync(tmp.Path, []);
        Assert.Equal(ExitCodes.Usage, none.Code);
        Assert.StartsWith("error: Required command was not provided.", none.ErrLine, StringComparison.Ordinal);
        Assert.Empty(Entries(tmp.Path));
    }

    [Fact]
    public async Task Serve_on_a_port_in_use_says_so_in_one_line_and_exits_1()
    {
        using var tmp = new TempDir();
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        var db = Path.Combine(tmp.Path, "serve.db");

        // Before: "Hosting failed to start" with a stack trace on stdout, another on stderr, exit 134.
        var run = await RunAimsAsync(tmp.Path, ["serve", "--db", db, "--inbox", Path.Combine(tmp.Path, "inbox"), "--urls", $"http://127.0.0.1:{port}", "--mapper", "lexical"]);
        Assert.Equal(ExitCodes.Error, run.Code);
        Assert.Equal($"error: port {port} is in use (http://127.0.0.1:{port}): another process listens there; stop it or choose another address with --urls", run.ErrLine);
        Assert.DoesNotContain("fail:", run.Out, StringComparison.Ordinal);
        Assert.Empty(Entries(tmp.Path)); // found before the database or the inbox is created
    }

    [Fact]
    public async Task An_unreadable_subfolder_is_reported_in_one_line_and_in_the_json_not_skipped_in_silence()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Skip("The folder is made unreadable with POSIX permissions.");
            return;
        }

        // Root reads every folder whatever its mode: as root the CLI runs as 'nobody' through setpriv.
        string[]? prefix = null;
        if (Environment.IsPrivilegedProcess)
        {
            var setpriv = new[] { "/usr/bin/setpriv", "/bin/setpriv" }.FirstOrDefault(File.Exists);
            Assert.SkipWhen(setpriv is null, "Running as root without setpriv: a folder cannot be made unreadable to the CLI.");
            prefix = [setpriv!, "--reuid=65534", "--regid=65534", "--clear-groups"];
        }

        using var tmp = new TempDir();
        File.SetUnixFileMode(tmp.Path, (UnixFileMode)0b111_111_111); // the unprivileged child writes its database here
        var docs = Path.Combine(tmp.Path, "docs");
        tmp.File("docs/good.md", GoodText);
        tmp.File("docs/locked/hidden-policy.md", GoodText + "\nLocked away.");
        tmp.File("docs/open/other.md", GoodText + "\nIn an open subfolder.");
        var locked = Path.Combine(docs, "locked");
        File.SetUnixFileMode(locked, UnixFileMode.None);
        try
        {
            var run = await RunAimsAsync(tmp.Path, ["ingest", docs, "--db", tmp.Db, "--mapper", "lexical", "--json"], prefix);

            // Before: exit 0, the folder and its documents skipped without a word.
            Assert.Equal(ExitCodes.DocumentsFailed, run.Code);
            Assert.StartsWith("unreadable folder: locked/: ", run.ErrLine, StringComparison.Ordinal);
            using var json = JsonDocument.Parse(run.Out);
            var unreadable = json.RootElement.GetProperty("unreadable").EnumerateArray().ToArray();
            Assert.Single(unreadable);
            Assert.Equal("locked/", unreadable[0].GetProperty("name").GetString());
            Assert.False(string.IsNullOrEmpty(unreadable[0].GetProperty("reason").GetString()));

            // The readable documents beside it are ingested.
            var outcomes = json.RootElement.GetProperty("documents").EnumerateArray()
                .ToDictionary(d => d.GetProperty("name").GetString()!, d => d.GetProperty("outcome").GetString());
            Assert.Equal("processed", outcomes["good.md"]);
            Assert.Equal("processed", outcomes["open/other.md"]);
            Assert.Equal(2, outcomes.Count);
        }
        finally
        {
            File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
