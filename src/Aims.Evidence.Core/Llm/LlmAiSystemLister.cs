using System.Globalization;
using System.Text;
using System.Text.Json;
using Aims.Evidence.Core.Inventory;
using Aims.Evidence.Core.Segmentation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Aims.Evidence.Core.Llm;

/// <summary>
/// The LLM pass of the AI-system inventory (prompts/list-ai-systems.yaml), opt-in with
/// <see cref="LlmOptions.ListAiSystems"/>: sends the document name, type and its first passages (at most
/// <see cref="MaxPassages"/> passages and <see cref="MaxWords"/> words, PII redacted, delimiters neutralised) and reads
/// {"systems":[{"name","aliases","purpose","provider","role","lifecycle","riskLevel","passages"}]}. Validation is
/// strict: unknown fields are ignored, a name must be 1-200 characters, a role one of developer, provider, deployer,
/// user (else null), passage numbers must be ones that were sent (a system without any is dropped). Invalid JSON gets
/// one repair attempt; errors, a second invalid answer or a spent token budget give no suggestions.
/// </summary>
/// <param name="budget">The composition's shared token account, so the mapper's judge and this pass spend one budget per run (default: one of its own).</param>
public sealed class LlmAiSystemLister(Kernel kernel, LlmOptions options, ILlmLedger ledger, PromptDefinition? prompt = null, ILogger? logger = null, LlmTokenBudget? budget = null) : IAiSystemLister
{
    public const int MaxPassages = 60;
    public const int MaxWords = 3000;
    private const int MaxSystems = 30;
    private const int MaxField = 300;
    private static readonly string[] Roles = ["developer", "provider", "deployer", "user"];
    private readonly PromptDefinition _prompt = prompt ?? PromptLibrary.Load(PromptLibrary.ListAiSystems, options?.PromptsDirectory);
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private readonly LlmTokenBudget _budget = budget ?? new LlmTokenBudget(options?.TokenBudget);

    public string PromptVersion => _prompt.PromptVersion;

    public async Task<IReadOnlyList<AiSystemEdit>> ListAsync(string documentId, string documentName, string docType, IReadOnlyList<Passage> passages, string? runId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(passages);
        var redactor = options.Redact ? PiiRedactor.Default : null;
        var redactions = new RedactionCounts();
        string Clean(string text) => LlmControlMapper.Neutralise(redactor is null ? text : redactor.Redact(text, redactions));

        // Passage number n (1-based, as sent) → the stored passage id.
        var sent = new Dictionary<int, string>();
        var text = new StringBuilder();
        var words = 0;
        foreach (var p in passages.OrderBy(p => p.Ordinal))
        {
            if (sent.Count >= MaxPassages || (words >= MaxWords && sent.Count > 0))
            {
                break;
            }

            var n = sent.Count + 1;
            sent[n] = $"{documentId}-{p.Ordinal:D5}";
            text.Append(CultureInfo.InvariantCulture, $"<passage n=\"{n}\">").AppendLine().AppendLine(Clean(p.Text)).AppendLine("</passage>");
            words += p.WordCount;
        }

        var usage = new LlmUsage { DocumentId = documentId, DocumentName = documentName, Model = options.Model, PromptVersion = _prompt.PromptVersion, RunId = runId };
        try
        {
            var rendered = await _prompt.RenderAsync(kernel, new KernelArguments
            {
                ["document_name"] = Clean(documentName),
                ["document_type"] = docType,
                ["passages"] = text.ToString().TrimEnd(),
            }, cancellationToken).ConfigureAwait(false);
            usage = usage with { Redactions = redactions.Total };
            var history = new ChatHistory();
            history.AddUserMessage(rendered);
            string? lastError = null;
            for (var attempt = 0; attempt < 2; attempt++)
            {
                if (_budget.IsSpent(runId))
                {
                    lastError = $"token budget of {_budget.Limit} spent";
                    break;
                }

                if (attempt > 0)
                {
                    usage = usage with { Repairs = usage.Repairs + 1 };
                }

                var reply = await kernel.GetRequiredService<IChatCompletionService>().GetChatMessageContentAsync(history, _prompt.ExecutionSettings, kernel, cancellationToken).ConfigureAwait(false);
                var (promptTokens, completionTokens) = LlmControlMapper.ReadUsage(reply);
                _budget.Add(runId, promptTokens + completionTokens);
                usage = usage with { Calls = usage.Calls + 1, PromptTokens = usage.PromptTokens + promptTokens, CompletionTokens = usage.CompletionTokens + completionTokens };
                try
                {
                    return Parse(reply.Content ?? string.Empty, sent, documentId, documentName);
                }
                catch (JsonException ex)
                {
                    lastError = ex.Message.Split('\n')[0];
                    history.AddAssistantMessage(reply.Content ?? string.Empty);
                    history.AddUserMessage($"That answer was not valid ({lastError}). Answer again with only the JSON object {{\"systems\":[...]}} in the shape asked for.");
                }
            }

            usage = usage with { Fallbacks = 1 };
            _logger.LogWarning("AI-system listing of {Document} gave no suggestions: {Reason}", documentName, lastError);
            return [];
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OutOfMemoryException)
        {
            usage = usage with { Fallbacks = 1 };
            _logger.LogWarning("AI-system listing of {Document} failed: {Reason}", documentName, ex.Message.Split('\n')[0]);
            return [];
        }
        finally
        {
            await ledger.RecordUsageAsync(usage, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Reads and validates the answer; throws <see cref="JsonException"/> for a shape that is not the one asked for.</summary>
    internal IReadOnlyList<AiSystemEdit> Parse(string content, IReadOnlyDictionary<int, string> sent, string documentId, string documentName)
    {
        using var json = JsonDocument.Parse(content);
        if (json.RootElement.ValueKind != JsonValueKind.Object || !json.RootElement.TryGetProperty("systems", out var systems) || systems.ValueKind != JsonValueKind.Array)
        {
            throw new JsonException("the answer has no \"systems\" array");
        }

        var result = new List<AiSystemEdit>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in systems.EnumerateArray().Take(MaxSystems))
        {
            if (s.ValueKind != JsonValueKind.Object || Text(s, "name", 200) is not { } name || AiSystemInventoryBuilder.NormalizeName(name).Length == 0)
            {
                continue;
            }

            var cited = s.TryGetProperty("passages", out var ps) && ps.ValueKind == JsonValueKind.Array
                ? ps.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.Number && x.TryGetInt32(out _)).Select(x => x.GetInt32())
                    .Where(sent.ContainsKey).Distinct().Order().Select(n => sent[n]).ToArray()
                : [];
            var id = AiSystemInventoryBuilder.IdOf(name);
            if (cited.Length == 0 || !seen.Add(id))
            {
                continue;
            }

            var aliases = s.TryGetProperty("aliases", out var a) && a.ValueKind == JsonValueKind.Array
                ? a.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!.Trim())
                    .Where(x => x.Length is > 0 and <= 200 && AiSystemInventoryBuilder.NormalizeName(x) != AiSystemInventoryBuilder.NormalizeName(name))
                    .Distinct(StringComparer.OrdinalIgnoreCase).Take(10).ToArray()
                : [];
            var role = Text(s, "role", 20)?.ToLowerInvariant();
            result.Add(new AiSystemEdit
            {
                Action = AiSystemEditActions.Suggest,
                SystemId = id,
                Name = name,
                Aliases = aliases,
                Purpose = Text(s, "purpose", MaxField),
                Provider = Text(s, "provider", 200),
                Role = role is not null && Roles.Contains(role) ? role : null,
                Lifecycle = Text(s, "lifecycle", 100),
                RiskLevel = Text(s, "riskLevel", 100),
                DocumentId = documentId,
                Documents = [documentName],
                Passages = cited,
                Actor = "llm:" + options.Model,
            });
        }

        return result;
    }

    private static string? Text(JsonElement e, string property, int max) =>
        e.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String && v.GetString()!.Trim() is { Length: > 0 } t && t.Length <= max ? t : null;
}
