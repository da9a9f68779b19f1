using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Segmentation;
using Microsoft.SemanticKernel;

namespace Aims.Evidence.Core.Llm;

/// <summary>Prompt-token estimate of the batched-candidates design against the naive whole-catalog design.</summary>
public sealed record LlmCostEstimate
{
    public int Documents { get; init; }

    public int Pages { get; init; }

    public int Passages { get; init; }

    /// <summary>Passages that pass the evidence gate: the only ones either design sends.</summary>
    public int SentPassages { get; init; }

    public int BatchedCalls { get; init; }

    public long BatchedPromptTokens { get; init; }

    public int NaiveCalls { get; init; }

    public long NaivePromptTokens { get; init; }

    public double BatchedTokensPerPage => Pages == 0 ? 0 : (double)BatchedPromptTokens / Pages;

    public double NaiveTokensPerPage => Pages == 0 ? 0 : (double)NaivePromptTokens / Pages;

    public double Ratio => BatchedPromptTokens == 0 ? 0 : (double)NaivePromptTokens / BatchedPromptTokens;

    /// <summary>Exact counts by the tokenizer passed to the estimator, when one was (else 0).</summary>
    public long BatchedExactTokens { get; init; }

    public long NaiveExactTokens { get; init; }

    public double ExactRatio => BatchedExactTokens == 0 ? 0 : (double)NaiveExactTokens / BatchedExactTokens;
}

/// <summary>
/// Estimates prompt tokens with the documented estimator tokens = ceil(characters / 4) over prompts rendered by the
/// real map-passages template. Batched design: BatchSize gated passages per call, each offering its top-k candidates
/// (here the lexical top-k, a stand-in for the embedded proposer so no model is loaded) with one glossary line per
/// distinct candidate. Naive design: one call per gated passage offering all mappable catalog entries
/// (title + summary). Completion tokens are the same order for both (one JSON entry per passage) and not counted.
/// </summary>
public static class LlmCostEstimator
{
    public static long EstimateTokens(string text) => ((text?.Length ?? 0) + 3) / 4;

    public static async Task<LlmCostEstimate> EstimateAsync(
        IEnumerable<(string Name, byte[] Content)> documents,
        PromptDefinition prompt,
        int batchSize = 8,
        int candidatesPerPassage = 5,
        IsoCatalog? catalog = null,
        Func<string, int>? exactCounter = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentNullException.ThrowIfNull(prompt);
        catalog ??= IsoCatalog.Default;
        var reader = DocumentReader.CreateDefault();
        var segmenter = new Segmenter();
        var lexical = new LexicalControlMapper(catalog);
        var everything = catalog.Mappable.Select(e => e.Id).ToArray();
        var kernel = new Kernel();
        var estimate = new LlmCostEstimate();
        foreach (var (name, content) in documents)
        {
            ExtractedDocument extracted;
            try
            {
                extracted = await reader.ReadAsync(content, name, ExtractionLimits.Default, cancellationToken).ConfigureAwait(false);
            }
            catch (DocumentRejectedException)
            {
                continue;
            }

            var passages = segmenter.Segment(extracted);
            if (passages.Count > ExtractionLimits.Default.MaxPassages)
            {
                continue; // ingestion fails such a document before it is mapped: nothing of it would be sent
            }

            var gated = passages.Where(p => EvidenceGate.Reject(p) is null).ToArray();
            long batched = 0, naive = 0, batchedExact = 0, naiveExact = 0;
            var batchedCalls = 0;
            foreach (var batch in gated.Chunk(Math.Max(1, batchSize)))
            {
                var items = batch.Select((p, n) => ("p" + (n + 1), p, (IReadOnlyList<string>)TopK(lexical, p, candidatesPerPassage))).ToArray();
                var rendered = await prompt.RenderAsync(kernel, LlmControlMapper.BuildArguments(items, name, "policy", catalog), cancellationToken).ConfigureAwait(false);
                batched += EstimateTokens(rendered);
                batchedExact += exactCounter?.Invoke(rendered) ?? 0;
                batchedCalls++;
            }

            foreach (var p in gated)
            {
                var rendered = await prompt.RenderAsync(kernel, LlmControlMapper.BuildArguments([("p1", p, everything)], name, "policy", catalog), cancellationToken).ConfigureAwait(false);
                naive += EstimateTokens(rendered);
                naiveExact += exactCounter?.Invoke(rendered) ?? 0;
            }

            estimate = estimate with
            {
                Documents = estimate.Documents + 1,
                Pages = estimate.Pages + Math.Max(1, extracted.PageCount),
                Passages = estimate.Passages + passages.Count,
                SentPassages = estimate.SentPassages + gated.Length,
                BatchedCalls = estimate.BatchedCalls + batchedCalls,
                BatchedPromptTokens = estimate.BatchedPromptTokens + batched,
                NaiveCalls = estimate.NaiveCalls + gated.Length,
                NaivePromptTokens = estimate.NaivePromptTokens + naive,
                BatchedExactTokens = estimate.BatchedExactTokens + batchedExact,
                NaiveExactTokens = estimate.NaiveExactTokens + naiveExact,
            };
        }

        return estimate;
    }

    private static string[] TopK(LexicalControlMapper lexical, Passage passage, int k)
    {
        var (scores, _) = lexical.RawScores(passage);
        return [.. Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(k).Select(i => lexical.Entries[i].Id)];
    }
}
