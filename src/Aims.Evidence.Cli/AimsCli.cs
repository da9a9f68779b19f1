using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aims.Evidence.Api;
using Aims.Evidence.Hosting;
using Aims.Evidence.Local;
using Spectre.Console;

namespace Aims.Evidence.Cli;

/// <summary>Exit codes: 0 success, 2 usage error, 3 some documents failed, 1 environment (missing database, busy port, unreadable file) or unexpected error.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Error = 1;
    public const int Usage = 2;
    public const int DocumentsFailed = 3;
}

public static partial class AimsCli
{
    /// <summary>Every <c>--json</c> is written in the API's JSON (<see cref="ApiJson"/>), with the API's DTOs where the API has the body.</summary>
    internal static JsonSerializerOptions Json => ApiJson.Indented;

    internal static JsonSerializerOptions JsonLine => ApiJson.Compact;

    internal static readonly Option<string> DbOption = new("--db")
    {
        Description = "Path of the SQLite evidence database.",
        DefaultValueFactory = _ => "aims.db",
        Recursive = true,
    };

    /// <summary>--mapper trained|hybrid|lexical for the commands that ingest; unset, <c>Aims:Mapping:Mapper</c> decides (default trained).</summary>
    internal static Option<string?> MapperOption()
    {
        var option = new Option<string?>("--mapper") { Description = "trained (the trained, calibrated model: default), hybrid (embeddings + BM25, hand-weighted) or lexical (BM25 only, fastest)." };
        option.AcceptOnlyFromAmong("trained", "hybrid", "lexical");
        return option;
    }

    /// <summary>The settings of appsettings.json and the environment (<c>Aims:*</c>), with the command line's mapper and LLM flags on top.</summary>
    internal static AimsSettings LoadSettings(ParseResult? parse = null, Option<string?>? mapper = null)
    {
        AimsSettings settings;
        try
        {
            settings = AimsComposition.Bind(AimsComposition.LoadConfiguration());
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message);
        }

        if (parse is not null && mapper is not null)
        {
            settings = WithMapper(settings, parse.GetValue(mapper));
        }

        return settings with { Llm = LoadLlmOptions(parse, settings: settings) };
    }

    internal static AimsSettings WithMapper(AimsSettings settings, string? mapper) =>
        mapper is null ? settings : settings with { Mapping = settings.Mapping with { Mapper = mapper } };

    internal static Option<bool> JsonOption() => new("--json") { Description = "Print machine-readable JSON." };

    public static async Task<int> RunAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        var output = stdout ?? System.Console.Out;
        var error = stderr ?? System.Console.Error;
        var root = new RootCommand("aims: ISO/IEC 42001 evidence from your documents, on one machine, offline.");
        root.Options.Add(DbOption);
        root.Subcommands.Add(IngestCommand(output, error));
        root.Subcommands.Add(StatusCommand(output));
        root.Subcommands.Add(ControlsCommand(output));
        root.Subcommands.Add(GapsCommand(output));
        root.Subcommands.Add(SoaCommand(output));
        root.Subcommands.Add(ApplicabilityCommand(output));
        root.Subcommands.Add(OwnerCommand(output));
        root.Subcommands.Add(TasksCommand(output));
        root.Subcommands.Add(InventoryCommand(output));
        root.Subcommands.Add(EvalInventoryCommand(output, error));
        root.Subcommands.Add(SearchCommand(output));
        root.Subcommands.Add(ExportCommand(output, error));
        root.Subcommands.Add(DemoCommand(output, error));
        root.Subcommands.Add(EvalCommand(output, error));
        root.Subcommands.Add(EvalPolarityCommand(output, error));
        root.Subcommands.Add(ServeCommand(output));
        root.Subcommands.Add(KeysCommand(output));
        root.Subcommands.Add(LlmCostCommand(output));
        root.Subcommands.Add(TrainCommand(output, error));
        root.Subcommands.Add(LabelsCommand(output));
        return await InvokeAsync(root, "aims", args, output, error).ConfigureAwait(false);
    }

    /// <summary>
    /// Parses and runs <paramref name="args"/> against <paramref name="root"/> with the CLI's error contract (also
    /// aims-tools'): every error is one line on stderr, exit 2 for usage, 1 for the environment.
    /// </summary>
    internal static async Task<int> InvokeAsync(RootCommand root, string program, string[] args, TextWriter output, TextWriter error)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            await error.WriteLineAsync(OneLine("error: " + ParseErrorMessage(parse) + $" Run '{program} --help' for usage.")).ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        // Every error is one line on stderr: exit 2 for usage (the command line is wrong), 1 for the environment (a
        // database that is missing or not one, a busy port, a file that cannot be read or written).
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false }).ConfigureAwait(false);
        }
        catch (UsageException ex)
        {
            await error.WriteLineAsync(OneLine("error: " + ex.Message)).ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (OperationCanceledException)
        {
            await error.WriteLineAsync("cancelled").ConfigureAwait(false);
            return ExitCodes.Error;
        }
        catch (EnvironmentException ex)
        {
            await error.WriteLineAsync(OneLine("error: " + ex.Message)).ConfigureAwait(false);
            return ExitCodes.Error;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            await error.WriteLineAsync(OneLine("error: " + ex.Message)).ConfigureAwait(false);
            return ExitCodes.Error;
        }
        catch (Exception ex) when (Environment.GetEnvironmentVariable("AIMS_DEBUG") is not ("1" or "true"))
        {
            // A bug, not a user error: still one line (AIMS_DEBUG=1 shows the stack trace).
            await error.WriteLineAsync(OneLine($"error: unexpected {ex.GetType().Name}: {ex.Message} (AIMS_DEBUG=1 shows the stack trace)")).ConfigureAwait(false);
            return ExitCodes.Error;
        }
    }

    /// <summary>
    /// The parse errors worth reading: for a word the parser does not know ("aims frobnicate") only that, not also
    /// "Required command was not provided." which it implies.
    /// </summary>
    private static string ParseErrorMessage(ParseResult parse)
    {
        var errors = parse.Errors.Select(e => e.Message).ToList();
        if (parse.UnmatchedTokens.Count > 0)
        {
            var unmatched = errors.Where(m => parse.UnmatchedTokens.Any(t => m.Contains($"'{t}'", StringComparison.Ordinal))).ToList();
            if (unmatched.Count > 0)
            {
                errors = unmatched;
            }
        }

        return string.Join(" ", errors.Distinct(StringComparer.Ordinal));
    }

    /// <summary>Line breaks and control characters (from a file name or a message) become spaces: one line per error.</summary>
    internal static string OneLine(string message) =>
        string.Create(message.Length, message, static (span, m) =>
        {
            for (var i = 0; i < m.Length; i++)
            {
                span[i] = char.IsControl(m[i]) ? ' ' : m[i];
            }
        });

    /// <summary>
    /// Opens the <c>--db</c> database. A read command (<paramref name="mustExist"/>) never creates one: a missing file is
    /// "no such database". An empty path is a usage error; a folder, a file that is not SQLite (a PDF) or a database
    /// this build cannot open is an environment error, one line each.
    /// </summary>
    internal static async Task<LocalAims> OpenDatabaseAsync(ParseResult parse, AimsSettings? settings, bool mustExist, CancellationToken ct)
    {
        var db = parse.GetValue(DbOption);
        var path = CheckDatabasePath(db, mustExist);
        try
        {
            return settings is null
                ? await LocalAims.OpenAsync(path, ct).ConfigureAwait(false)
                : await LocalAims.OpenAsync(path, settings, ct).ConfigureAwait(false);
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            throw new EnvironmentException($"cannot open the database {db}: {ex.Message}");
        }
        catch (InvalidOperationException ex) when (ex.Message.Contains("schema version", StringComparison.Ordinal))
        {
            throw new EnvironmentException(ex.Message);
        }
    }

    /// <summary>Checks a <c>--db</c> path before anything opens or creates it; returns it.</summary>
    internal static string CheckDatabasePath(string? db, bool mustExist)
    {
        if (string.IsNullOrWhiteSpace(db))
        {
            throw new UsageException("--db is empty; name the database file, e.g. --db aims.db");
        }

        if (Directory.Exists(db))
        {
            throw new EnvironmentException($"--db names a folder, not a database file: {db}");
        }

        if (!File.Exists(db))
        {
            if (mustExist)
            {
                throw new EnvironmentException($"no such database: {db} (run aims ingest first)");
            }

            return db;
        }

        if (!LooksLikeSqlite(db))
        {
            throw new EnvironmentException($"not an aims database: {db} is not a SQLite file");
        }

        return db;
    }

    /// <summary>An empty file (SQLite creates the database in it) or one that starts with the SQLite header.</summary>
    private static bool LooksLikeSqlite(string path)
    {
        ReadOnlySpan<byte> header = "SQLite format 3\0"u8;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (stream.Length == 0)
        {
            return true;
        }

        Span<byte> start = stackalloc byte[16];
        return stream.ReadAtLeast(start, start.Length, throwOnEndOfStream: false) == start.Length && start.SequenceEqual(header);
    }

    internal static IAnsiConsole Console(TextWriter writer)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
        Out = new AnsiConsoleOutput(writer),
        Ansi = writer == System.Console.Out && !System.Console.IsOutputRedirected ? AnsiSupport.Detect : AnsiSupport.No,
        ColorSystem = writer == System.Console.Out && !System.Console.IsOutputRedirected ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        Interactive = writer == System.Console.Out && !System.Console.IsOutputRedirected ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (writer != System.Console.Out || System.Console.IsOutputRedirected)
        {
            console.Profile.Width = 150; // files and pipes get full rows instead of an 80-column wrap
        }

        return console;
    }
}

/// <summary>The environment is not as the command needs it (a missing database, a busy port): one line, exit 1.</summary>
public sealed class EnvironmentException(string message) : Exception(message)
{
    public EnvironmentException()
        : this("environment error")
    {
    }

    public EnvironmentException(string message, Exception inner)
        : this(message + ": " + inner.Message)
    {
    }
}

public sealed class UsageException(string message) : Exception(message)
{
    public UsageException()
        : this("usage error")
    {
    }

    public UsageException(string message, Exception inner)
        : this(message + ": " + inner.Message)
    {
    }
}
