using System.Globalization;
using System.Text.Json;
using Aims.Evidence.Core.Extraction;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Aims.Evidence.Azure.DocumentIntelligence;

/// <summary>
/// Extracts PDFs and scanned images with Azure AI Document Intelligence's <c>prebuilt-layout</c> model.
/// <para>
/// The Azure.AI.DocumentIntelligence client package is not served by our package registry, so this class
/// speaks the service's documented REST API (version 2024-11-30) itself through an Azure.Core
/// <see cref="HttpPipeline"/>: the pipeline supplies retries (including 429 with Retry-After), logging,
/// distributed tracing and authentication, exactly as the official clients do.
/// </para>
/// Wire protocol: POST <c>{endpoint}/documentintelligence/documentModels/{model}:analyze?api-version=...</c>
/// with a <c>base64Source</c> JSON body returns 202 and an <c>Operation-Location</c>; GET on that URL until
/// <c>status</c> is <c>succeeded</c> (with <c>analyzeResult</c>) or <c>failed</c> (with <c>error</c>).
/// </summary>
public sealed class DocumentIntelligenceLayoutExtractor : IDocumentExtractor
{
    private static readonly string[] Supported =
    [
        Core.Extraction.MediaTypes.Pdf, "image/jpeg", "image/png", "image/bmp", "image/tiff", "image/heif",
    ];

    private readonly DocumentIntelligenceOptions _options;
    private readonly HttpPipeline _pipeline;

    public DocumentIntelligenceLayoutExtractor(DocumentIntelligenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Endpoint);
        _options = options;

        HttpPipelinePolicy auth;
        if (options.Credential is not null)
        {
            auth = new BearerTokenAuthenticationPolicy(options.Credential, DocumentIntelligenceOptions.CognitiveServicesScope);
        }
        else if (!string.IsNullOrEmpty(options.ApiKey))
        {
            auth = new SubscriptionKeyPolicy(options.ApiKey);
        }
        else
        {
            throw new ArgumentException("Document Intelligence needs a credential or a key.", nameof(options));
        }

        _pipeline = HttpPipelineBuilder.Build(options.ClientOptions, auth);
    }

    public IReadOnlyCollection<string> MediaTypes => Supported;

    public async Task<ExtractedDocument> ExtractAsync(ReadOnlyMemory<byte> content, ExtractionContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (content.Length == 0)
        {
            throw new DocumentRejectedException(RejectionKind.Invalid, $"{context.FileName} is empty.");
        }

        if (content.Length > context.Limits.MaxFileBytes)
        {
            throw new DocumentRejectedException(RejectionKind.Invalid, $"{context.FileName} is larger than {context.Limits.MaxFileBytes} bytes.");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        try
        {
            var operation = await SubmitAsync(content, timeout.Token).ConfigureAwait(false);
            using var result = await PollAsync(operation, timeout.Token).ConfigureAwait(false);
            return LayoutMapper.Map(result.RootElement.GetProperty("analyzeResult"), context.MediaType, context.Limits);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DocumentRejectedException(RejectionKind.Invalid,
                $"Document Intelligence did not finish {context.FileName} within {_options.Timeout}.");
        }
    }

    private async Task<Uri> SubmitAsync(ReadOnlyMemory<byte> content, CancellationToken ct)
    {
        var endpoint = _options.Endpoint.AbsoluteUri.TrimEnd('/');
        var uri = new Uri(string.Create(CultureInfo.InvariantCulture,
            $"{endpoint}/documentintelligence/documentModels/{Uri.EscapeDataString(_options.ModelId)}:analyze?api-version={Uri.EscapeDataString(_options.ApiVersion)}"));

        using var message = _pipeline.CreateMessage();
        var request = message.Request;
        request.Method = RequestMethod.Post;
        request.Uri.Reset(uri);
        request.Headers.Add(HttpHeader.Names.ContentType, "application/json");
        request.Headers.Add(HttpHeader.Names.Accept, "application/json");

        var body = new MemoryStream();
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartObject();
            writer.WriteBase64String("base64Source", content.Span);
            writer.WriteEndObject();
        }

        body.Position = 0;
        request.Content = RequestContent.Create(body);
        message.ResponseClassifier = new StatusCodeClassifier([202]);

        await _pipeline.SendAsync(message, ct).ConfigureAwait(false);
        var response = message.Response;
        if (response.Status != 202)
        {
            throw Rejected(response, "submit");
        }

        if (!response.Headers.TryGetValue("Operation-Location", out var location) || string.IsNullOrEmpty(location))
        {
            throw new RequestFailedException(response.Status, "Document Intelligence answered 202 without an Operation-Location header.");
        }

        return new Uri(location);
    }

    private async Task<JsonDocument> PollAsync(Uri operation, CancellationToken ct)
    {
        while (true)
        {
            using var message = _pipeline.CreateMessage();
            message.Request.Method = RequestMethod.Get;
            message.Request.Uri.Reset(operation);
            message.Request.Headers.Add(HttpHeader.Names.Accept, "application/json");
            message.ResponseClassifier = new StatusCodeClassifier([200]);

            await _pipeline.SendAsync(message, ct).ConfigureAwait(false);
            var response = message.Response;
            if (response.Status != 200)
            {
                throw Rejected(response, "poll");
            }

            var json = await JsonDocument.ParseAsync(response.ContentStream ?? Stream.Null, cancellationToken: ct).ConfigureAwait(false);
            var status = json.RootElement.TryGetProperty("status", out var s) ? s.GetString() : null;
            switch (status)
            {
                case "succeeded":
                    if (!json.RootElement.TryGetProperty("analyzeResult", out _))
                    {
                        json.Dispose();
                        throw new RequestFailedException("Document Intelligence reported success without an analyzeResult.");
                    }

                    return json;
                case "failed":
                case "canceled":
                    var reason = ErrorMessage(json.RootElement) ?? $"analysis {status}";
                    json.Dispose();
                    throw new DocumentRejectedException(RejectionKind.Invalid, $"Document Intelligence could not analyse the document: {reason}");
                default:
                    json.Dispose();
                    await Task.Delay(RetryAfter(response) ?? _options.PollingInterval, ct).ConfigureAwait(false);
                    break;
            }
        }
    }

    private static TimeSpan? RetryAfter(Response response)
    {
        if (response.Headers.TryGetValue("retry-after-ms", out var ms) && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var msValue))
        {
            return TimeSpan.FromMilliseconds(msValue);
        }

        if (response.Headers.TryGetValue("Retry-After", out var value))
        {
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
            {
                return TimeSpan.FromSeconds(seconds);
            }

            if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                var delay = at - DateTimeOffset.UtcNow;
                return delay > TimeSpan.Zero ? delay : TimeSpan.Zero;
            }
        }

        return null;
    }

    private static Exception Rejected(Response response, string step)
    {
        string? reason = null;
        try
        {
            if (response.ContentStream is { } stream)
            {
                using var json = JsonDocument.Parse(stream);
                reason = ErrorMessage(json.RootElement);
            }
        }
        catch (JsonException)
        {
        }

        var message = $"Document Intelligence {step} failed with HTTP {response.Status}: {reason ?? response.ReasonPhrase}";

        // 4xx other than throttling/auth means the document itself was refused (corrupt, too large, unsupported).
        if (response.Status is 400 or 413 or 415 or 422)
        {
            return new DocumentRejectedException(RejectionKind.Invalid, message);
        }

        return new RequestFailedException(response.Status, message);
    }

    private static string? ErrorMessage(JsonElement root)
    {
        if (!root.TryGetProperty("error", out var error) || error.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var code = error.TryGetProperty("code", out var c) ? c.GetString() : null;
        var message = error.TryGetProperty("message", out var m) ? m.GetString() : null;
        if (error.TryGetProperty("innererror", out var inner) && inner.ValueKind == JsonValueKind.Object
            && inner.TryGetProperty("message", out var im) && im.GetString() is { Length: > 0 } innerMessage)
        {
            message = $"{message} ({innerMessage})";
        }

        return code is null ? message : $"{code}: {message}";
    }
}

/// <summary>Adds the resource key as the <c>Ocp-Apim-Subscription-Key</c> header on every request.</summary>
internal sealed class SubscriptionKeyPolicy(string key) : HttpPipelineSynchronousPolicy
{
    public override void OnSendingRequest(HttpMessage message)
    {
        message.Request.Headers.SetValue("Ocp-Apim-Subscription-Key", key);
    }
}
