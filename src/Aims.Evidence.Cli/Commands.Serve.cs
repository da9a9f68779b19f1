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
            // A busy port is one line and exit 1, found before the database is opened (Kestrel's own failure is
            // logged with its stack trace by the host; it remains the fallback when the port is taken in between).
            EnsureAddressesFree(parse.GetValue(urls)!);

            // LLM-judged mapping of inbox documents when appsettings.json / AIMS__LLM__* configure a provider.
            using var aims = await OpenDatabaseAsync(parse, WithMapper(LoadSettings(), parse.GetValue(mapper)), mustExist: false, ct).ConfigureAwait(false);
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
            try
            {
                await app.StartAsync(ct).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                throw new EnvironmentException($"cannot listen on {parse.GetValue(urls)}: {ex.Message}");
            }

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

    /// <summary>
    /// Binds each address of <paramref name="urls"/> (<c>http://127.0.0.1:5080;http://localhost:5081</c>, <c>*</c>, <c>+</c>
    /// and names meaning every address) for a moment: an address in use or not allowed is an <see cref="EnvironmentException"/>.
    /// </summary>
    internal static void EnsureAddressesFree(string urls)
    {
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var rest = url.Contains("://", StringComparison.Ordinal) ? url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..] : url;
            var authority = rest.Split('/')[0];
            var colon = authority.LastIndexOf(':');
            if (colon < 0 || authority.EndsWith(']') || !int.TryParse(authority[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port is <= 0 or > 65535)
            {
                continue; // no explicit port (or port 0): Kestrel reports what it cannot bind
            }

            var host = authority[..colon].Trim('[', ']');
            var address = string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) ? System.Net.IPAddress.Loopback
                : System.Net.IPAddress.TryParse(host, out var ip) ? ip
                : System.Net.IPAddress.Any;
            try
            {
                using var socket = new System.Net.Sockets.Socket(address.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                socket.Bind(new System.Net.IPEndPoint(address, port));
                socket.Listen();
            }
            catch (System.Net.Sockets.SocketException ex)
            {
                throw new EnvironmentException(ex.SocketErrorCode switch
                {
                    System.Net.Sockets.SocketError.AddressAlreadyInUse => $"port {port} is in use ({url}): another process listens there; stop it or choose another address with --urls",
                    System.Net.Sockets.SocketError.AccessDenied => $"not allowed to listen on {url} (ports below 1024 need privileges); choose another address with --urls",
                    System.Net.Sockets.SocketError.AddressNotAvailable => $"cannot listen on {url}: the address is not one of this machine's",
                    _ => $"cannot listen on {url}: {ex.Message}",
                });
            }
        }
    }

    private static Command KeysCommand(TextWriter output)
    {
        var role = new Option<string>("--role") { Description = "reader, reviewer or admin.", Required = true };
        role.AcceptOnlyFromAmong("reader", "reviewer", "admin");
        var create = new Command("create", "Create an API key; the key is printed once, alone on the last line, and stored only as a SHA-256 hash.") { role };
        create.SetAction(async (parse, ct) =>
        {
            var r = Enum.Parse<ApiRole>(parse.GetValue(role)!, ignoreCase: true);
            using var aims = await OpenDatabaseAsync(parse, null, mustExist: false, ct).ConfigureAwait(false);
            var (record, key) = await aims.Store.CreateApiKeyAsync(r, "cli", ct).ConfigureAwait(false);
            await output.WriteLineAsync($"Created {r.ToString().ToLowerInvariant()} key {record.Id}. Send it in the X-Api-Key header; it is shown only now:").ConfigureAwait(false);
            await output.WriteLineAsync(key).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        var id = new Argument<string>("id") { Description = "The key's id, as `keys create` printed it (also in the audit log)." };
        var revoke = new Command("revoke", "Revoke an API key: requests with it get 401 from then on; the revocation is in the audit log.") { id };
        revoke.SetAction(async (parse, ct) =>
        {
            using var aims = await OpenDatabaseAsync(parse, null, mustExist: true, ct).ConfigureAwait(false);
            var revoked = await aims.Store.RevokeApiKeyAsync(parse.GetValue(id)!, "cli", ct).ConfigureAwait(false)
                ?? throw new EnvironmentException($"no such key: {parse.GetValue(id)} in {parse.GetValue(DbOption)}");
            await output.WriteLineAsync($"Revoked {revoked.Role.ToString().ToLowerInvariant()} key {revoked.Id}: requests with it now get 401.").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return new Command("keys", "Manage API keys of `aims serve`.") { create, revoke };
    }
}
