using System.CommandLine;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Local;
using Microsoft.Extensions.Hosting;

namespace Aims.Evidence.Cli;

public static partial class AimsCli
{
    private static Command ServeCommand(TextWriter output)
    {
        var inbox = new Option<string>("--inbox") { Description = "Folder to watch; documents landing here are ingested (uploads are saved here too).", DefaultValueFactory = _ => "inbox" };
        var urls = new Option<string>("--urls") { Description = "Address(es) to listen on.", DefaultValueFactory = _ => AimsServer.DefaultUrl };
        var mapper = MapperOption();
        var concurrency = new Option<int>("--ingest-concurrency") { Description = "Inbox documents ingested at the same time (0 = one per core)." };
        var command = new Command("serve", "Serve the REST API (/api/v1) and the dashboard (/), and ingest what lands in the inbox folder.") { inbox, urls, mapper, concurrency };
        command.SetAction(async (parse, ct) =>
        {
            // LLM-judged mapping of inbox documents when appsettings.json / AIMS__LLM__* configure a provider.
            using var aims = await LocalAims.OpenAsync(parse.GetValue(DbOption)!, WithMapper(LoadSettings(), parse.GetValue(mapper)), ct).ConfigureAwait(false);
            var run = new RunRecord { Id = Guid.CreateVersion7().ToString("N"), StartedAt = DateTimeOffset.UtcNow };
            await aims.Store.SaveRunAsync(run, ct).ConfigureAwait(false);
            await using var app = AimsServer.Build(aims, parse.GetValue(inbox)!, parse.GetValue(urls)!, run.Id, o =>
            {
                // The flag wins over configuration (AIMS__API__INGESTCONCURRENCY) only when given.
                var ingestConcurrency = parse.GetValue(concurrency);
                if (ingestConcurrency > 0)
                {
                    o.IngestConcurrency = ingestConcurrency;
                }
            });
            await app.StartAsync(ct).ConfigureAwait(false);
            foreach (var url in app.Urls)
            {
                await output.WriteLineAsync($"aims is serving {url}/ (dashboard), {url}/api/v1 (API), {url}/openapi/v1.json").ConfigureAwait(false);
            }

            await output.WriteLineAsync($"Watching {Path.GetFullPath(parse.GetValue(inbox)!)}; database {aims.Store.Path}. Press Ctrl+C to stop.").ConfigureAwait(false);
            await app.WaitForShutdownAsync(ct).ConfigureAwait(false);
            await aims.Store.SaveRunAsync(run with { FinishedAt = DateTimeOffset.UtcNow }, CancellationToken.None).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command KeysCommand(TextWriter output)
    {
        var role = new Option<string>("--role") { Description = "reader, reviewer or admin.", Required = true };
        role.AcceptOnlyFromAmong("reader", "reviewer", "admin");
        var create = new Command("create", "Create an API key; the key is printed once, alone on the last line, and stored only as a SHA-256 hash.") { role };
        create.SetAction(async (parse, ct) =>
        {
            var r = Enum.Parse<ApiRole>(parse.GetValue(role)!, ignoreCase: true);
            using var aims = await LocalAims.OpenAsync(parse.GetValue(DbOption)!, cancellationToken: ct).ConfigureAwait(false);
            var (record, key) = await aims.Store.CreateApiKeyAsync(r, "cli", ct).ConfigureAwait(false);
            await output.WriteLineAsync($"Created {r.ToString().ToLowerInvariant()} key {record.Id}. Send it in the X-Api-Key header; it is shown only now:").ConfigureAwait(false);
            await output.WriteLineAsync(key).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return new Command("keys", "Manage API keys of `aims serve`.") { create };
    }
}
