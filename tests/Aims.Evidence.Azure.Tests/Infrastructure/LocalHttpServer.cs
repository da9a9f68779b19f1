using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Aims.Evidence.Azure.Tests.Infrastructure;

/// <summary>A recorded request to <see cref="LocalHttpServer"/>.</summary>
public sealed record RecordedRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>What the test handler answers.</summary>
public sealed record ServerReply(int Status, string? Body = null, IReadOnlyDictionary<string, string>? Headers = null)
{
    public static ServerReply Json(int status, string body, params (string Name, string Value)[] headers) =>
        new(status, body, headers.ToDictionary(h => h.Name, h => h.Value, StringComparer.OrdinalIgnoreCase));
}

/// <summary>
/// A real HTTP server on 127.0.0.1 (HttpListener) that answers with a test-supplied handler and records
/// every request, so adapters are exercised over the wire with their real clients.
/// </summary>
public sealed class LocalHttpServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Func<RecordedRequest, ServerReply> _handler;
    private readonly Task _loop;

    public LocalHttpServer(Func<RecordedRequest, ServerReply> handler)
    {
        _handler = handler;
        Port = FreePort.Next();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    public Uri BaseUri => new($"http://127.0.0.1:{Port}/");

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            try
            {
                string body;
                using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
                {
                    body = await reader.ReadToEndAsync();
                }

                var headers = context.Request.Headers.AllKeys
                    .Where(k => k is not null)
                    .ToDictionary(k => k!, k => context.Request.Headers[k] ?? string.Empty, StringComparer.OrdinalIgnoreCase);
                var request = new RecordedRequest(context.Request.HttpMethod, context.Request.Url!.PathAndQuery, headers, body);
                Requests.Enqueue(request);

                ServerReply reply;
                try
                {
                    reply = _handler(request);
                }
                catch (Exception ex)
                {
                    reply = new ServerReply(500, "{\"error\":{\"code\":\"TestHandler\",\"message\":\"" + ex.Message.Replace("\"", "'", StringComparison.Ordinal) + "\"}}");
                }

                context.Response.StatusCode = reply.Status;
                foreach (var (name, value) in reply.Headers ?? new Dictionary<string, string>())
                {
                    context.Response.Headers[name] = value;
                }

                if (reply.Body is not null)
                {
                    var bytes = Encoding.UTF8.GetBytes(reply.Body);
                    context.Response.ContentType = "application/json; charset=utf-8";
                    context.Response.ContentLength64 = bytes.Length;
                    await context.Response.OutputStream.WriteAsync(bytes);
                }

                context.Response.Close();
            }
            catch (HttpListenerException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}

/// <summary>
/// Sends requests that a client addressed to an https endpoint to the local http server instead. The
/// Azure.Search.Documents client refuses non-https endpoints, so the client is given a real-looking https
/// endpoint and this transport handler moves the request onto the loopback server; everything above the
/// socket (serialization, retries, authentication headers) is the real client.
/// </summary>
public sealed class LoopbackRedirectHandler(int port) : DelegatingHandler(new SocketsHttpHandler())
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var builder = new UriBuilder(request.RequestUri!) { Scheme = "http", Host = "127.0.0.1", Port = port };
        request.RequestUri = builder.Uri;
        return base.SendAsync(request, cancellationToken);
    }
}
