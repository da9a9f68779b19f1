using System.Globalization;
using System.Text;
using System.Text.Json;
using Aims.Evidence.Core.Classification;
using ClassificationResult = Aims.Evidence.Core.Classification.Classification;
using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Segmentation;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Aims.Evidence.Core.Llm;

/// <summary>
/// Document classification by the chat model (prompts/classify-document.yaml), opt-in with
/// <see cref="LlmOptions.ClassifyDocuments"/>. The answer must be {"docType","confidence","aiRelevant","rationale"}
/// with a known type; anything else (errors, invalid JSON, unknown type) falls back to the inner classifier.
/// </summary>
/// <param name="budget">The composition's shared token account (default: one of its own).</param>
public sealed class LlmDocumentClassifier(IDocumentClassifier inner, Kernel kernel, LlmOptions options, ILlmLedger ledger, PromptDefinition? prompt = null, LlmTokenBudget? budget = null) : IDocumentClassifier
{
    private readonly LlmTokenBudget _budget = budget ?? new LlmTokenBudget(options?.TokenBudget);
    private const int ExcerptWords = 600;
    private readonly PromptDefinition _prompt = prompt ?? PromptLibrary.Load(PromptLibrary.ClassifyDocument, options?.PromptsDirectory);

    public async Task<ClassificationResult> ClassifyAsync(ExtractedDocument document, IReadOnlyList<Passage> passages, string fileName, string? runId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(passages);
        var fallback = await inner.ClassifyAsync(document, passages, fileName, runId, cancellationToken).ConfigureAwait(false);
        var redactor = options.Redact ? PiiRedactor.Default : null;
        var redactions = new RedactionCounts();
        string Clean(string text) => LlmControlMapper.Neutralise(redactor is null ? text : redactor.Redact(text, redactions));
        var excerpt = new StringBuilder();
        var words = 0;
        foreach (var p in passages)
        {
            if (words >= ExcerptWords)
            {
                break;
            }

            excerpt.AppendLine(Clean(p.Text));
            words += p.WordCount;
        }

        var usage = new LlmUsage { DocumentName = fileName, Model = options.Model, PromptVersion = _prompt.PromptVersion, RunId = runId };
        try
        {
            if (_budget.IsSpent(runId))
            {
                throw new InvalidOperationException($"token budget of {_budget.Limit} spent");
            }

            var documentName = Clean(fileName);
            usage = usage with { Redactions = redactions.Total };
            var rendered = await _prompt.RenderAsync(kernel, new KernelArguments
            {
                ["document_name"] = documentName,
                ["document_types"] = string.Join(", ", DocumentTypes.All),
                ["excerpt"] = excerpt.ToString().TrimEnd(),
            }, cancellationToken).ConfigureAwait(false);
            var history = new ChatHistory();
            history.AddUserMessage(rendered);
            var reply = await kernel.GetRequiredService<IChatCompletionService>().GetChatMessageContentAsync(history, _prompt.ExecutionSettings, kernel, cancellationToken).ConfigureAwait(false);
            var (promptTokens, completionTokens) = LlmControlMapper.ReadUsage(reply);
            usage = usage with { Redactions = redactions.Total, Calls = 1, PromptTokens = promptTokens, CompletionTokens = completionTokens };
            _budget.Add(runId, promptTokens + completionTokens);
            using var json = JsonDocument.Parse(reply.Content ?? string.Empty);
            var root = json.RootElement;
            var type = root.GetProperty("docType").GetString() ?? string.Empty;
            var confidence = Math.Clamp(root.GetProperty("confidence").GetDouble(), 0, 1);
            var aiRelevant = !root.TryGetProperty("aiRelevant", out var ai) || ai.ValueKind != JsonValueKind.False;
            if (!DocumentTypes.IsKnown(type))
            {
                throw new JsonException($"unknown document type '{type}'");
            }

            var rationale = root.TryGetProperty("rationale", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            return aiRelevant
                ? new ClassificationResult(type, Math.Round(confidence, 2), $"{options.Model}: {rationale}")
                : new ClassificationResult(DocumentTypes.Unrelated, Math.Round(confidence, 2), $"{options.Model}: not about AI. {rationale}");
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OutOfMemoryException)
        {
            usage = usage with { Fallbacks = 1 };
            return fallback with { Rationale = string.Create(CultureInfo.InvariantCulture, $"{fallback.Rationale} (LLM classification unavailable: {ex.Message.Split('\n')[0]})") };
        }
        finally
        {
            await ledger.RecordUsageAsync(usage, CancellationToken.None).ConfigureAwait(false);
        }
    }
}
