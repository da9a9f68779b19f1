using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Mapping.Feedback;
using Aims.Evidence.Core.Segmentation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Aims.Evidence.Core.Llm;

/// <summary>
/// LLM-judged mapping through Semantic Kernel. The embedded engine proposes the top-k candidate controls per passage;
/// batches of passages (document text delimited as data) go to the chat model with only their own candidates; the
/// strict JSON answer is validated against the offered ids and the catalog. Any failure (HTTP errors after the
/// retries, invalid JSON after one repair attempt, a spent token budget) falls back to the embedded suggestions
/// with method "llm-fallback": a model never loses a document.
/// </summary>
public sealed class LlmControlMapper : IControlMapper, IDisposable
{
    private readonly ICandidateProposer _embedded;
    private readonly Kernel _kernel;
    private readonly LlmOptions _options;
    private readonly ILlmLedger _ledger;
    private readonly IsoCatalog _catalog;
    private readonly PromptDefinition _prompt;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate;
    private readonly LlmTokenBudget _budget;
    private readonly string _model;

    /// <param name="budget">The composition's shared token account (default: one of this mapper's own).</param>
    public LlmControlMapper(ICandidateProposer embedded, Kernel kernel, LlmOptions options, ILlmLedger ledger, IsoCatalog? catalog = null, PromptDefinition? prompt = null, ILogger? logger = null, LlmTokenBudget? budget = null)
    {
        ArgumentNullException.ThrowIfNull(embedded);
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(ledger);
        _embedded = embedded;
        _kernel = kernel;
        _options = options;
        _ledger = ledger;
        _catalog = catalog ?? IsoCatalog.Default;
        _prompt = prompt ?? PromptLibrary.Load(PromptLibrary.MapPassages, options.PromptsDirectory);
        _logger = logger ?? NullLogger.Instance;
        _gate = new SemaphoreSlim(Math.Max(1, options.MaxConcurrency));
        _model = options.Model ?? "unknown";
        _budget = budget ?? new LlmTokenBudget(options.TokenBudget);
        Name = "llm-" + _model;
    }

    public string Name { get; }

    public void Dispose() => _gate.Dispose();

    public string PromptVersion => _prompt.PromptVersion;

    public string Model => _model;

    /// <summary>The engine whose candidates the LLM judges.</summary>
    public ICandidateProposer Proposer => _embedded;

    /// <summary>Candidates offered per passage: the setting when given, else the proposer's recommendation.</summary>
    public int CandidatesPerPassage => _options.CandidatesPerPassage > 0 ? _options.CandidatesPerPassage : _embedded.RecommendedCandidates;

    /// <summary>Usage of the most recent <see cref="MapAsync"/> (also recorded in the ledger).</summary>
    public LlmUsage? LastUsage { get; private set; }

    public async Task<IReadOnlyList<IReadOnlyList<MappingSuggestion>>> MapAsync(
        IReadOnlyList<Passage> passages,
        MappingContext context,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(passages);
        ArgumentNullException.ThrowIfNull(context);
        var candidates = await _embedded.ProposeCandidatesAsync(passages, context, CandidatesPerPassage, cancellationToken).ConfigureAwait(false);
        var result = new IReadOnlyList<MappingSuggestion>[passages.Count];
        for (var i = 0; i < passages.Count; i++)
        {
            result[i] = [];
        }

        // Gate-rejected passages, passages resembling no profile and unrelated documents have no candidates: not sent.
        var sendable = Enumerable.Range(0, passages.Count).Where(i => candidates[i].Count > 0).ToArray();
        if (sendable.Length == 0)
        {
            return result;
        }

        // Reviewers' decisions on similar passages: shown to the judge, and an entry they accepted there is offered here
        // too. They are part of the cache key, so a new decision asks the model again.
        var examples = new IReadOnlyList<ReviewExample>[passages.Count];
        var offeredLists = candidates.ToArray();
        foreach (var i in sendable)
        {
            examples[i] = context.Reviews?.Examples(passages[i].Headings, passages[i].Text, MaxExamples) ?? [];
            var extra = examples[i].SelectMany(e => e.Accepted).Where(id => _catalog.Contains(id) && offeredLists[i].All(c => c.ControlId != id)).Distinct(StringComparer.Ordinal).ToArray();
            if (extra.Length > 0)
            {
                offeredLists[i] = [.. offeredLists[i], .. extra.Select(id => new MappingSuggestion(id, 0, MappingMethods.Llm, "accepted by a reviewer on a similar passage"))];
            }
        }

        candidates = offeredLists;

        var usage = new LlmUsage { DocumentId = context.DocumentId, DocumentName = context.DocumentName, RunId = context.RunId, Model = _model, PromptVersion = PromptVersion };
        var shas = sendable.ToDictionary(i => i, i => Sha256(passages[i].Text + ExamplesKey(examples[i])));
        var cached = await _ledger.GetCachedAsync(shas.Values.Distinct(StringComparer.Ordinal).ToArray(), PromptVersion, _model, cancellationToken).ConfigureAwait(false);
        var toSend = new List<int>();
        var hits = 0;
        foreach (var i in sendable)
        {
            if (cached.TryGetValue(shas[i], out var controls))
            {
                var offered = candidates[i].Select(c => c.ControlId).ToHashSet(StringComparer.Ordinal);
                result[i] = [.. controls
                    .Where(c => _catalog.Contains(c.Id) && offered.Contains(c.Id) && c.Confidence >= _options.MinConfidence)
                    .OrderByDescending(c => c.Confidence)
                    .Select(c => Suggestion(c.Id, c.Confidence, c.Rationale, c.Polarity))];
                hits++;
            }
            else
            {
                toSend.Add(i);
            }
        }

        usage = usage with { CacheHits = hits };
        var batches = toSend.Chunk(Math.Max(1, _options.BatchSize)).ToArray();
        var outcomes = await Task.WhenAll(batches.Select(b => RunBatchAsync(b, passages, candidates, examples, context, cancellationToken))).ConfigureAwait(false);
        var toCache = new Dictionary<string, IReadOnlyList<CachedControl>>(StringComparer.Ordinal);
        foreach (var outcome in outcomes)
        {
            usage = usage.Add(outcome.Usage);
            foreach (var (index, suggestions) in outcome.Suggestions)
            {
                result[index] = suggestions;
            }

            foreach (var (index, controls) in outcome.ToCache)
            {
                toCache[shas[index]] = controls;
            }
        }

        if (toCache.Count > 0)
        {
            await _ledger.PutCachedAsync(toCache, PromptVersion, _model, cancellationToken).ConfigureAwait(false);
        }

        await _ledger.RecordUsageAsync(usage, cancellationToken).ConfigureAwait(false);
        LastUsage = usage;
        return result;
    }

    private sealed record BatchOutcome(IReadOnlyList<(int Index, IReadOnlyList<MappingSuggestion> Suggestions)> Suggestions, IReadOnlyList<(int Index, IReadOnlyList<CachedControl> Controls)> ToCache, LlmUsage Usage);

    private async Task<BatchOutcome> RunBatchAsync(int[] batch, IReadOnlyList<Passage> passages, IReadOnlyList<IReadOnlyList<MappingSuggestion>> candidates, IReadOnlyList<IReadOnlyList<ReviewExample>> examples, MappingContext context, CancellationToken cancellationToken)
    {
        var usage = new LlmUsage();
        var localIds = batch.Select((index, n) => (Id: "p" + (n + 1).ToString(CultureInfo.InvariantCulture), Index: index)).ToArray();
        var offered = localIds.ToDictionary(x => x.Id, x => candidates[x.Index].Select(c => c.ControlId).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);

        BatchOutcome Fallback(string reason, LlmUsage spent)
        {
            if (_logger.IsEnabled(LogLevel.Warning))
            {
                _logger.LogWarning("LLM mapping of {Count} passages of {Document} fell back to the embedded mapper: {Reason}", batch.Length, context.DocumentName, reason);
            }

            var suggestions = batch.Select(i => (i, (IReadOnlyList<MappingSuggestion>)[.. _embedded.SelectSuggestions(candidates[i])
                .Select(s => s with { Method = MappingMethods.LlmFallback, Rationale = $"LLM unavailable ({reason}); embedded: {s.Rationale}" })])).ToArray();
            return new BatchOutcome(suggestions, [], spent with { Fallbacks = spent.Fallbacks + 1 });
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var redactions = new RedactionCounts();
            var prompt = await RenderAsync(localIds, passages, candidates, examples, context, redactions, cancellationToken).ConfigureAwait(false);
            usage = usage with { Redactions = redactions.Total };
            if (redactions.Total > 0 && _logger.IsEnabled(LogLevel.Information))
            {
                _logger.LogInformation("Redacted before sending {Count} passages of {Document}: {Redactions}", batch.Length, context.DocumentName, redactions.ToString());
            }

            var history = new ChatHistory();
            history.AddUserMessage(prompt);
            string? lastError = null;
            for (var attempt = 0; attempt < 2; attempt++)
            {
                if (_budget.IsSpent(context.RunId))
                {
                    return Fallback($"token budget of {_budget.Limit} spent", usage);
                }

                if (attempt > 0)
                {
                    usage = usage with { Repairs = usage.Repairs + 1 };
                }

                ChatMessageContent reply;
                try
                {
                    var chat = _kernel.GetRequiredService<IChatCompletionService>();
                    reply = await chat.GetChatMessageContentAsync(history, _prompt.ExecutionSettings, _kernel, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OutOfMemoryException)
                {
                    return Fallback("model call failed: " + FirstLine(ex.Message), usage with { Calls = usage.Calls + 1 });
                }

                var (promptTokens, completionTokens) = ReadUsage(reply);
                usage = usage with { Calls = usage.Calls + 1, PromptTokens = usage.PromptTokens + promptTokens, CompletionTokens = usage.CompletionTokens + completionTokens };
                _budget.Add(context.RunId, promptTokens + completionTokens);

                var content = reply.Content ?? string.Empty;
                if (TryParse(content, offered, out var answer, out var rejected, out lastError))
                {
                    usage = usage with { RejectedIds = usage.RejectedIds + rejected };
                    var suggestions = new List<(int, IReadOnlyList<MappingSuggestion>)>();
                    var cache = new List<(int, IReadOnlyList<CachedControl>)>();
                    foreach (var (id, index) in localIds)
                    {
                        if (!answer.TryGetValue(id, out var controls))
                        {
                            suggestions.Add((index, []));
                            continue;
                        }

                        cache.Add((index, controls));
                        suggestions.Add((index, [.. controls
                            .Where(c => c.Confidence >= _options.MinConfidence)
                            .OrderByDescending(c => c.Confidence)
                            .Select(c => Suggestion(c.Id, c.Confidence, c.Rationale, c.Polarity))]));
                    }

                    return new BatchOutcome(suggestions, cache, usage);
                }

                history.AddAssistantMessage(content);
                history.AddUserMessage($"Your answer could not be used: {lastError}. Answer again with only the JSON object in exactly the required shape, using only each passage's offered ids.");
            }

            return Fallback("invalid JSON after a repair attempt: " + lastError, usage);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// One judged control. With a polarity in the answer, the judge decided it for this passage and entry (kept by
    /// <see cref="PolarityMapper"/>), and a finding's rationale says so; without one, the trained polarity model decides.
    /// </summary>
    private MappingSuggestion Suggestion(string id, double confidence, string rationale, string? polarity)
    {
        var text = string.IsNullOrWhiteSpace(rationale) ? $"{id} judged by {_model}." : rationale.Trim();
        var finding = polarity == Polarities.Finding;
        return new(id, Math.Round(Math.Clamp(confidence, 0, 1), 4), MappingMethods.Llm, finding ? text + $" A finding, judged by {_model}: the passage states the control is absent, failed or nonconforming." : text)
        {
            Model = _model,
            PromptVersion = PromptVersion,
            Polarity = finding ? MappingPolarity.Finding : MappingPolarity.Supports,
            PolarityDecided = polarity is not null,
        };
    }

    /// <summary>The polarity values the mapping prompt asks for.</summary>
    private static class Polarities
    {
        public const string Supports = "supports";
        public const string Finding = "finding";
    }

    private async Task<string> RenderAsync((string Id, int Index)[] ids, IReadOnlyList<Passage> passages, IReadOnlyList<IReadOnlyList<MappingSuggestion>> candidates, IReadOnlyList<IReadOnlyList<ReviewExample>> examples, MappingContext context, RedactionCounts redactions, CancellationToken cancellationToken)
    {
        var args = BuildArguments(ids.Select(x => (x.Id, passages[x.Index], (IReadOnlyList<string>)[.. candidates[x.Index].Select(c => c.ControlId)])).ToArray(), context.DocumentName, context.DocType, _catalog, _options.Redact ? PiiRedactor.Default : null, redactions, [.. ids.Select(x => examples[x.Index] ?? [])]);
        return await _prompt.RenderAsync(_kernel, args, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The template arguments for one batch: candidate glossary and delimited, neutralised passages. With a
    /// <paramref name="redactor"/>, the document name, headings and passage text are redacted first (counted in
    /// <paramref name="redactions"/>).
    /// </summary>
    public static KernelArguments BuildArguments(IReadOnlyList<(string Id, Passage Passage, IReadOnlyList<string> Offered)> batch, string documentName, string docType, IsoCatalog catalog, PiiRedactor? redactor = null, RedactionCounts? redactions = null, IReadOnlyList<IReadOnlyList<ReviewExample>>? examples = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(catalog);
        string Clean(string text) => Neutralise(redactor is null ? text : redactor.Redact(text, redactions));
        var glossary = new StringBuilder();
        foreach (var id in batch.SelectMany(b => b.Offered).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var entry = catalog[id];
            glossary.Append(id).Append(" | ").Append(entry.Title).Append(" | ").AppendLine(Truncate(entry.Summary, 240));
        }

        var text = new StringBuilder();
        foreach (var (id, passage, offered) in batch)
        {
            var heading = passage.Headings.Count > 0 ? Clean(string.Join(" > ", passage.Headings)) : string.Empty;
            text.Append("<passage id=\"").Append(id).Append("\" offered=\"").Append(string.Join(", ", offered)).Append('"');
            if (heading.Length > 0)
            {
                text.Append(" section=\"").Append(heading.Replace("\"", "'", StringComparison.Ordinal)).Append('"');
            }

            text.AppendLine(">").AppendLine(Clean(passage.Text)).AppendLine("</passage>");
        }

        // Reviewed examples: data like the passages (neutralised, redacted), each tied to the passage it resembles.
        var reviewed = new StringBuilder();
        for (var b = 0; examples is not null && b < batch.Count && b < examples.Count; b++)
        {
            foreach (var e in examples[b])
            {
                reviewed.Append("<example for=\"").Append(batch[b].Id).Append("\" accepted=\"").Append(string.Join(", ", e.Accepted))
                    .Append("\" rejected=\"").Append(string.Join(", ", e.Rejected)).Append("\">").AppendLine()
                    .AppendLine(Clean(Truncate(e.Text, MaxExampleChars))).AppendLine("</example>");
            }
        }

        return new KernelArguments
        {
            ["document_name"] = Clean(documentName),
            ["document_type"] = docType,
            ["candidates"] = glossary.ToString().TrimEnd(),
            ["passages"] = text.ToString().TrimEnd(),
            ["reviewed"] = reviewed.Length == 0 ? "(none)" : reviewed.ToString().TrimEnd(),
        };
    }

    /// <summary>Reviewed examples shown per passage, and the characters of each shown.</summary>
    private const int MaxExamples = 2;

    private const int MaxExampleChars = 600;

    /// <summary>What of a passage's examples changes the answer to expect: their passages and decisions (empty without examples, so the cache key of a passage without reviews is its text alone).</summary>
    private static string ExamplesKey(IReadOnlyList<ReviewExample> examples) =>
        examples.Count == 0 ? string.Empty
        : "\u001f" + string.Join("\u001e", examples.Select(e => $"{e.PassageId}:{string.Join(',', e.Accepted)}/{string.Join(',', e.Rejected)}"));

    /// <summary>
    /// Document text is data: angle brackets become look-alike guillemets, so no text can open or close a
    /// &lt;passage&gt;/&lt;passages&gt; delimiter (or a chat &lt;message&gt; tag), and template braces lose their meaning.
    /// </summary>
    public static string Neutralise(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Replace('<', '‹').Replace('>', '›').Replace("{{", "{ {", StringComparison.Ordinal).Replace("}}", "} }", StringComparison.Ordinal);
    }

    /// <summary>
    /// Parses {"passages":[{"id":"p1","controls":[{"id":"A.9.4","confidence":0.8,"polarity":"supports","rationale":"..."}]}]}.
    /// A broken shape (or a polarity other than "supports" or "finding") is an error (repairable); a missing polarity
    /// leaves it to the trained model; ids not offered for the passage, not in the catalog, or for an unknown passage
    /// are discarded and counted in <paramref name="rejected"/>.
    /// </summary>
    internal bool TryParse(string content, IReadOnlyDictionary<string, HashSet<string>> offered, out Dictionary<string, IReadOnlyList<CachedControl>> answer, out int rejected, out string? error)
    {
        answer = new Dictionary<string, IReadOnlyList<CachedControl>>(StringComparer.Ordinal);
        rejected = 0;
        error = null;
        var json = StripFences(content);
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("passages", out var list) || list.ValueKind != JsonValueKind.Array)
            {
                error = "expected a JSON object with a \"passages\" array";
                return false;
            }

            foreach (var item in list.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("id", out var idElement) || idElement.ValueKind != JsonValueKind.String
                    || !item.TryGetProperty("controls", out var controls) || controls.ValueKind != JsonValueKind.Array)
                {
                    error = "every element of \"passages\" needs a string \"id\" and a \"controls\" array";
                    return false;
                }

                var passageId = idElement.GetString()!;
                var accepted = new List<CachedControl>();
                var known = offered.TryGetValue(passageId, out var allowed);
                foreach (var control in controls.EnumerateArray())
                {
                    if (control.ValueKind != JsonValueKind.Object || !control.TryGetProperty("id", out var cid) || cid.ValueKind != JsonValueKind.String
                        || !control.TryGetProperty("confidence", out var conf) || conf.ValueKind != JsonValueKind.Number)
                    {
                        error = "every control needs a string \"id\" and a numeric \"confidence\"";
                        return false;
                    }

                    var id = cid.GetString()!.Trim();
                    if (!known || !allowed!.Contains(id) || !_catalog.Contains(id))
                    {
                        rejected++;
                        continue;
                    }

                    var rationale = control.TryGetProperty("rationale", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : string.Empty;
                    string? polarity = null;
                    if (control.TryGetProperty("polarity", out var pol) && pol.ValueKind != JsonValueKind.Null)
                    {
                        polarity = pol.ValueKind == JsonValueKind.String ? pol.GetString()!.Trim().ToLowerInvariant() : string.Empty;
                        if (polarity is not (Polarities.Supports or Polarities.Finding))
                        {
                            error = "\"polarity\" must be \"supports\" or \"finding\"";
                            return false;
                        }
                    }

                    if (accepted.All(a => a.Id != id))
                    {
                        accepted.Add(new CachedControl(id, Math.Clamp(conf.GetDouble(), 0, 1), rationale, polarity));
                    }
                }

                if (known)
                {
                    answer[passageId] = accepted;
                }
            }

            return true;
        }
        catch (JsonException ex)
        {
            error = "invalid JSON: " + FirstLine(ex.Message);
            return false;
        }
    }

    private static string StripFences(string content)
    {
        var text = content.Trim();
        if (text.StartsWith("```", StringComparison.Ordinal))
        {
            var firstNewline = text.IndexOf('\n', StringComparison.Ordinal);
            text = firstNewline < 0 ? string.Empty : text[(firstNewline + 1)..];
            if (text.EndsWith("```", StringComparison.Ordinal))
            {
                text = text[..^3];
            }
        }

        return text.Trim();
    }

    /// <summary>
    /// Prompt and completion tokens from a reply's metadata["Usage"] (OpenAI.Chat.ChatTokenUsage for the OpenAI and
    /// Azure OpenAI connectors; read by property name so Core needs no connector package).
    /// </summary>
    public static (long Prompt, long Completion) ReadUsage(ChatMessageContent reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        if (reply.Metadata is null || !reply.Metadata.TryGetValue("Usage", out var usage) || usage is null)
        {
            return (0, 0);
        }

        return (ReadCount(usage, "InputTokenCount", "PromptTokens", "InputTokens"), ReadCount(usage, "OutputTokenCount", "CompletionTokens", "OutputTokens"));

        static long ReadCount(object usage, params string[] names)
        {
            foreach (var name in names)
            {
                var property = usage.GetType().GetProperty(name, BindingFlags.Public | BindingFlags.Instance);
                if (property?.GetValue(usage) is { } value)
                {
                    return Convert.ToInt64(value, CultureInfo.InvariantCulture);
                }
            }

            return 0;
        }
    }

    public static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text ?? string.Empty)));

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..(max - 1)].TrimEnd() + "…";

    private static string FirstLine(string text)
    {
        var line = text.Split('\n', 2)[0].Trim();
        return line.Length > 200 ? line[..200] : line;
    }
}
