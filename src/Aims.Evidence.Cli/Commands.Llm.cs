using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Aims.Evidence.Core.Llm;
using Aims.Evidence.Hosting;

namespace Aims.Evidence.Cli;

public static partial class AimsCli
{
    internal static readonly Option<string?> LlmProviderOption = new("--llm-provider") { Description = "LLM-judged mapping: none (default), azure-openai or openai (any OpenAI-compatible base URL)." };
    internal static readonly Option<string?> LlmEndpointOption = new("--llm-endpoint") { Description = "Azure OpenAI resource URL or OpenAI-compatible base URL (e.g. http://localhost:11434/v1); alone it implies --llm-provider openai." };
    internal static readonly Option<string?> LlmModelOption = new("--llm-model") { Description = "Model id, or the Azure OpenAI deployment name." };
    internal static readonly Option<string?> LlmApiKeyOption = new("--llm-api-key") { Description = "API key (prefer AIMS__LLM__APIKEY in the environment)." };
    internal static readonly Option<bool> LlmRedactOption = new("--llm-redact") { Description = "Replace e-mail addresses, phone numbers, IBANs, card numbers, IP addresses and SSNs with placeholders before text goes to the model (default true; --llm-redact false to send text as is)." };
    internal static readonly Option<long?> LlmTokenBudgetOption = new("--llm-token-budget") { Description = "Prompt + completion tokens this run may spend; then batches fall back to the embedded mapper." };

    /// <summary>
    /// LLM settings: appsettings.json next to the binary (section "Aims:Llm"), then environment variables
    /// (AIMS__LLM__PROVIDER, AIMS__LLM__ENDPOINT, AIMS__LLM__MODEL, AIMS__LLM__APIKEY, …), then the --llm-* flags.
    /// </summary>
    public static LlmOptions LoadLlmOptions(ParseResult? parse = null, string? baseDirectory = null, AimsSettings? settings = null)
    {
        LlmOptions options;
        try
        {
            options = settings?.Llm ?? AimsComposition.Bind(AimsComposition.LoadConfiguration(baseDirectory)).Llm;
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message);
        }

        if (parse is not null)
        {
            options = options with
            {
                Provider = parse.GetValue(LlmProviderOption) ?? options.Provider,
                Endpoint = parse.GetValue(LlmEndpointOption) ?? options.Endpoint,
                Model = parse.GetValue(LlmModelOption) ?? options.Model,
                ApiKey = parse.GetValue(LlmApiKeyOption) ?? options.ApiKey,
                TokenBudget = parse.GetValue(LlmTokenBudgetOption) ?? options.TokenBudget,
                Redact = parse.GetResult(LlmRedactOption) is { Implicit: false } ? parse.GetValue(LlmRedactOption) : options.Redact,
            };
            if (parse.GetValue(LlmEndpointOption) is not null && parse.GetValue(LlmProviderOption) is null && LlmProviders.Normalize(options.Provider) == LlmProviders.None)
            {
                options = options with { Provider = LlmProviders.OpenAI };
            }
        }

        try
        {
            return options.Validated();
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message);
        }
    }

    private static Command LlmCostCommand(TextWriter output)
    {
        var paths = new Argument<string[]>("paths") { Description = "Files and folders (recursive) whose passages to estimate.", Arity = ArgumentArity.OneOrMore };
        var batch = new Option<int>("--batch-size") { Description = "Passages per call in the batched design.", DefaultValueFactory = _ => 8 };
        var k = new Option<int>("--candidates") { Description = "Candidates per passage in the batched design.", DefaultValueFactory = _ => 5 };
        var exact = new Option<bool>("--exact") { Description = "Also count tokens exactly with the o200k_base tokenizer (GPT-4o family; Microsoft.ML.Tokenizers, bundled data)." };
        var json = JsonOption();
        var command = new Command("llm-cost", "Estimate prompt tokens per page: batched candidates (our design) against the whole catalog with every passage (naive). No model is called.") { paths, batch, k, exact, json };
        command.SetAction(async (parse, ct) =>
        {
            var files = EnumerateInputs(parse.GetValue(paths) ?? []);
            var docs = new List<(string, byte[])>();
            foreach (var (name, path) in files)
            {
                docs.Add((name, await File.ReadAllBytesAsync(path, ct).ConfigureAwait(false)));
            }

            var prompt = PromptLibrary.Load(PromptLibrary.MapPassages);
            Func<string, int>? counter = null;
            if (parse.GetValue(exact))
            {
                var tokenizer = Microsoft.ML.Tokenizers.TiktokenTokenizer.CreateForEncoding("o200k_base");
                counter = text => tokenizer.CountTokens(text);
            }

            var e = await LlmCostEstimator.EstimateAsync(docs, prompt, parse.GetValue(batch), parse.GetValue(k), exactCounter: counter, cancellationToken: ct).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(new
                {
                    estimator = "ceil(chars/4) over prompts rendered by " + prompt.PromptVersion,
                    e.Documents,
                    e.Pages,
                    e.Passages,
                    e.SentPassages,
                    batched = new { calls = e.BatchedCalls, promptTokens = e.BatchedPromptTokens, tokensPerPage = Math.Round(e.BatchedTokensPerPage, 1) },
                    naive = new { calls = e.NaiveCalls, promptTokens = e.NaivePromptTokens, tokensPerPage = Math.Round(e.NaiveTokensPerPage, 1) },
                    ratio = Math.Round(e.Ratio, 2),
                    exact = counter is null ? null : new
                    {
                        tokenizer = "o200k_base",
                        batchedPromptTokens = e.BatchedExactTokens,
                        naivePromptTokens = e.NaiveExactTokens,
                        batchedTokensPerPage = Math.Round((double)e.BatchedExactTokens / Math.Max(1, e.Pages), 1),
                        naiveTokensPerPage = Math.Round((double)e.NaiveExactTokens / Math.Max(1, e.Pages), 1),
                        ratio = Math.Round(e.ExactRatio, 2),
                    },
                }, Json)).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            var c = CultureInfo.InvariantCulture;
            await output.WriteLineAsync(string.Create(c, $"{e.Documents} documents, {e.Pages} pages, {e.Passages} passages, {e.SentPassages} sent (pass the evidence gate); estimator ceil(chars/4) over {prompt.PromptVersion}")).ConfigureAwait(false);
            await output.WriteLineAsync(string.Create(c, $"batched candidates: {e.BatchedCalls} calls, {e.BatchedPromptTokens} prompt tokens, {e.BatchedTokensPerPage:0.0} per page")).ConfigureAwait(false);
            await output.WriteLineAsync(string.Create(c, $"naive whole catalog: {e.NaiveCalls} calls, {e.NaivePromptTokens} prompt tokens, {e.NaiveTokensPerPage:0.0} per page")).ConfigureAwait(false);
            await output.WriteLineAsync(string.Create(c, $"ratio naive / batched: {e.Ratio:0.00}x")).ConfigureAwait(false);
            if (counter is not null)
            {
                await output.WriteLineAsync(string.Create(c, $"exact o200k_base: batched {e.BatchedExactTokens} ({(double)e.BatchedExactTokens / Math.Max(1, e.Pages):0.0} per page), naive {e.NaiveExactTokens} ({(double)e.NaiveExactTokens / Math.Max(1, e.Pages):0.0} per page), ratio {e.ExactRatio:0.00}x")).ConfigureAwait(false);
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static object LlmJson(LlmUsage u) => new
    {
        calls = u.Calls,
        promptTokens = u.PromptTokens,
        completionTokens = u.CompletionTokens,
        cacheHits = u.CacheHits,
        rejectedIds = u.RejectedIds,
        fallbacks = u.Fallbacks,
        repairs = u.Repairs,
        redactions = u.Redactions,
    };
}
