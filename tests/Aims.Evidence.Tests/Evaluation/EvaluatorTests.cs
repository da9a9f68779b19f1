using System.Text.Json;
using Aims.Evidence.Cli;
using Aims.Evidence.Core.Evaluation;

namespace Aims.Evidence.Tests.Evaluation;

public class EvaluatorTests
{
    private const double Eps = 1e-9;

    private const string Q1 = "The system owner records the intended use of every AI system before deployment.";
    private const string Q2 = "Lunch is served at noon in the cafeteria on the second floor.";
    private const string Q3 = "Internal audits of the AI management system are conducted once a year.";
    private const string Q4 = "Training data provenance is documented for each data set used.";

    private static GoldDocument Doc(string file, IReadOnlyList<GoldPassage> passages, string[]? must = null, string[]? may = null, bool ai = true, string type = "policy", string[]? alt = null) =>
        new(file, type, alt ?? [], ai, must ?? [], may ?? [], passages);

    private static GoldPassage G(string quote, string[] controls, string[]? also = null) => new(quote, controls, also ?? []);

    private static ProducedPassage P(string text, params string[] suggested) => new(text, suggested);

    private static Dictionary<string, ProducedDocument> Produced(params (string File, string? Type, ProducedPassage[] Passages)[] docs) =>
        docs.ToDictionary(d => d.File, d => new ProducedDocument(d.Type, d.Passages), StringComparer.Ordinal);

    [Fact]
    public void A_what_if_threshold_suggests_from_the_kept_scores_and_leaves_passages_without_scores_alone()
    {
        var scores = new Core.Mapping.Feedback.PassageCandidates
        {
            Threshold = 0.5,
            MaxSuggestions = 2,
            Method = "trained",
            Entries = [new("A.6.2.4", 0.45), new("A.2.2", 0.7), new("A.5.2", 0.3), new("A.7.2", 0.2)],
        };
        var gold = new[] { Doc("a.md", [G(Q1, ["A.6.2.4"]), G(Q2, [])], must: ["A.6.2.4"]) };
        var produced = Produced(("a.md", "policy", [P(Q1, "A.2.2") with { Scores = scores }, P(Q2, "A.9.2")]));

        var at = produced["a.md"].AtThreshold(0.4);
        var lower = produced["a.md"].AtThreshold(0.25);

        Assert.Equal(["A.2.2", "A.6.2.4"], at.Passages[0].Suggested);
        Assert.Equal(["A.2.2", "A.6.2.4"], lower.Passages[0].Suggested); // at most the mapper's count
        Assert.Equal(["A.9.2"], at.Passages[1].Suggested); // no kept scores: as produced
        Assert.Empty(produced["a.md"].AtThreshold(0.8).Passages[0].Suggested);
        Assert.Equal(0.0, Evaluator.Evaluate(gold, produced).Metrics.PassageRecallAt3, Eps);
        Assert.Equal(1.0, Evaluator.Evaluate(gold, new Dictionary<string, ProducedDocument> { ["a.md"] = at }).Metrics.PassageRecallAt3, Eps);
    }

    [Fact]
    public void Perfect_case_scores_one_everywhere()
    {
        var gold = new[]
        {
            Doc("a.md", [G(Q1, ["A.6.2.4"]), G(Q2, [])], must: ["A.6.2.4"]),
            Doc("b.md", [], ai: false, type: "unrelated"),
        };
        var produced = Produced(
            ("a.md", "policy", [P("Scope. " + Q1 + " More text.", "A.6.2.4"), P(Q2)]),
            ("b.md", "unrelated", [P("A recipe for hummus.")]));

        var m = Evaluator.Evaluate(gold, produced).Metrics;

        Assert.Equal(1.0, m.PassageRecallAt3, Eps);
        Assert.Equal(1.0, m.PassagePrecisionAt3, Eps);
        Assert.Equal(1.0, m.PassageF1, Eps);
        Assert.Equal(0.0, m.NullFpr, Eps);
        Assert.Equal(0.0, m.UnrelatedPassageRate, Eps);
        Assert.Equal(1.0, m.DocMustRecall, Eps);
        Assert.Equal(1.0, m.DocPrecision, Eps);
        Assert.Equal(1.0, m.DocTypeAccuracy, Eps);
        Assert.Equal(0, m.UnmatchedQuotes);
        Assert.Equal(9, m.Named.Count);
    }

    [Fact]
    public void Quote_matching_containment_longest_common_substring_and_unmatched()
    {
        // Containment after normalisation: case, punctuation and whitespace differ.
        var passages = new[] { "intro text", "Risk OWNERS -- review\n the register, monthly." }.Select(Core.Lexical.Tokenizer.Normalize).ToArray();
        var contained = Evaluator.MatchQuote("risk owners  review the register", passages);
        Assert.Equal(1, contained.PassageIndex);
        Assert.Equal(QuoteMatchKind.Contained, contained.Kind);

        // Not contained whole: the passage with the longest common substring wins when it covers at least half of the quote.
        var lcsPassages = new[] { "delta epsilon zeta", "xx alpha beta gamma yy" }.Select(Core.Lexical.Tokenizer.Normalize).ToArray();
        var lcs = Evaluator.MatchQuote("Alpha, beta, gamma delta", lcsPassages); // normalised: "alpha beta gamma delta" (22 chars)
        Assert.Equal(1, lcs.PassageIndex);
        Assert.Equal(QuoteMatchKind.LongestCommonSubstring, lcs.Kind);
        Assert.Equal("alpha beta gamma ".Length, lcs.CommonLength);

        // Less than half covered: unmatched.
        var none = Evaluator.MatchQuote("completely different words here", ["nothing in common"]);
        Assert.Null(none.PassageIndex);
        Assert.Equal(QuoteMatchKind.Unmatched, none.Kind);

        Assert.Equal(3, Evaluator.LongestCommonSubstring("abcdef", "zcdez"));
        Assert.Equal(0, Evaluator.LongestCommonSubstring("abc", string.Empty));
    }

    [Fact]
    public void Unmatched_quotes_and_missing_documents_count_as_misses()
    {
        var gold = new[]
        {
            // Q1 matches by containment (hit), Q3 by longest common substring (hit), Q4 is not in the text (miss, unmatched).
            Doc("a.md", [G(Q1, ["A.6.2.4"]), G(Q3, ["9.2.2"]), G(Q4, ["A.7.5"])], must: ["A.6.2.4"]),
            // Not produced at all: its quote is unmatched and a miss; its type is wrong.
            Doc("missing.md", [G(Q2, ["A.2.2"])], must: ["A.2.2"]),
        };
        var q3Damaged = "Internal audits of the AI management system are conducted once"[..40] + " ## page 3 ## " + "conducted once a year";
        var produced = Produced(("a.md", "policy", [P(Q1, "A.6.2.4"), P(q3Damaged, "9.2.2"), P("Unrelated words about the office.")]));

        var report = Evaluator.Evaluate(gold, produced);
        var m = report.Metrics;

        Assert.Equal(2, m.UnmatchedQuotes);
        Assert.Equal(2.0 / 4, m.PassageRecallAt3, Eps);
        Assert.Equal(1.0, m.PassagePrecisionAt3, Eps); // 2 predictions, both correct; unmatched passages predict nothing
        Assert.Equal(1.0 / 2, m.DocMustRecall, Eps);
        Assert.Equal(1.0 / 2, m.DocTypeAccuracy, Eps);
        var missing = Assert.Single(report.Documents, d => d.File == "missing.md");
        Assert.False(missing.Produced);
        Assert.Equal(1, missing.UnmatchedQuotes);
    }

    [Fact]
    public void Container_clauses_are_equivalent_to_their_children()
    {
        var gold = new[]
        {
            Doc("a.md", [G(Q1, ["9.2.1"]), G(Q2, ["6.1"]), G(Q3, ["A.6.2.4"])], must: ["9.2.1", "6.1.2"]),
        };
        var produced = Produced(("a.md", "policy", [P(Q1, "9.2"), P(Q2, "6.1.3"), P(Q3, "A.6.2")]));

        var m = Evaluator.Evaluate(gold, produced).Metrics;

        // 9.2 ~ 9.2.1 and 6.1.3 ~ 6.1 count; A.6.2 is not a container, so A.6.2 vs A.6.2.4 does not.
        Assert.Equal(2.0 / 3, m.PassageRecallAt3, Eps);
        Assert.Equal(2.0 / 3, m.PassagePrecisionAt3, Eps);
        // Must: 9.2.1 (via 9.2) and 6.1.2 (via 6.1.3? no: siblings are not equivalent) -> 1/2.
        Assert.Equal(1.0 / 2, m.DocMustRecall, Eps);
    }

    [Fact]
    public void Precision_counts_top3_ids_in_controls_or_also()
    {
        var gold = new[]
        {
            Doc("a.md", [G(Q1, ["A.5.4"], ["A.7.4"]), G(Q3, ["A.6.2.4"])]),
        };
        var produced = Produced(("a.md", "policy",
        [
            P(Q1, "A.7.4", "A.5.4", "A.9.2", "A.10.3"), // top-3: A.7.4 (also), A.5.4 (control), A.9.2 (wrong) -> hit, 2/3
            P(Q3, "A.9.2", "A.9.3", "A.9.4", "A.6.2.4"), // top-3 misses A.6.2.4 -> miss, 0/3
        ]));

        var report = Evaluator.Evaluate(gold, produced);
        var m = report.Metrics;

        Assert.Equal(0.5, m.PassageRecallAt3, Eps);
        Assert.Equal(2.0 / 6, m.PassagePrecisionAt3, Eps);
        Assert.Equal(0.4, m.PassageF1, Eps);

        var a92 = Assert.Single(report.Controls, c => c.ControlId == "A.9.2");
        Assert.Equal((0, 0, 2, 0), (a92.GoldPassages, a92.GoldHits, a92.Predictions, a92.CorrectPredictions));
        var a624 = Assert.Single(report.Controls, c => c.ControlId == "A.6.2.4");
        Assert.Equal((1, 0, 0, 0), (a624.GoldPassages, a624.GoldHits, a624.Predictions, a624.CorrectPredictions));
        var a74 = Assert.Single(report.Controls, c => c.ControlId == "A.7.4");
        Assert.Equal((0, 0, 1, 1), (a74.GoldPassages, a74.GoldHits, a74.Predictions, a74.CorrectPredictions));

        Assert.Equal(4, report.Confusions.Count);
        Assert.Contains(new Confusion("A.5.4", "A.9.2", 1), report.Confusions);
        Assert.Contains(new Confusion("A.6.2.4", "A.9.4", 1), report.Confusions);
        Assert.DoesNotContain(report.Confusions, c => c.PredictedControl == "A.7.4");
    }

    [Fact]
    public void Null_passages_with_suggestions_are_false_positives()
    {
        var gold = new[]
        {
            Doc("a.md", [G(Q1, []), G(Q2, []), G(Q3, [])]),
            Doc("u.md", [G(Q4, [])], ai: false, type: "unrelated"), // unrelated documents do not count for null_fpr
        };
        var produced = Produced(
            ("a.md", "policy", [P(Q1, "A.2.2"), P(Q2), P("something else entirely")]),
            ("u.md", "unrelated", [P(Q4, "A.7.5")]));

        var m = Evaluator.Evaluate(gold, produced).Metrics;

        // Q1 matched with a suggestion (fp), Q2 matched without (ok), Q3 unmatched (no matched passage, not a fp).
        Assert.Equal(1.0 / 3, m.NullFpr, Eps);
        Assert.Equal(1, m.UnmatchedQuotes);
        Assert.Equal(0.0, m.PassageRecallAt3, Eps); // no scored passages -> 0
        Assert.Equal(0.0, m.PassagePrecisionAt3, Eps); // zero denominator -> 0
        Assert.Equal(0.0, m.PassageF1, Eps);
    }

    [Fact]
    public void Unrelated_passage_rate_is_over_all_produced_passages_of_unrelated_documents()
    {
        var gold = new[]
        {
            Doc("recipe.md", [], ai: false, type: "unrelated"),
            Doc("readme.md", [], ai: false, type: "unrelated"),
            Doc("a.md", [G(Q1, ["A.2.2"])]),
        };
        var produced = Produced(
            ("recipe.md", "unrelated", [P("one", "A.7.5"), P("two"), P("three"), P("four")]),
            ("readme.md", "reference", [P("five")]),
            ("a.md", "policy", [P(Q1, "A.2.2"), P("other", "A.9.2")]));

        var m = Evaluator.Evaluate(gold, produced).Metrics;

        Assert.Equal(1.0 / 5, m.UnrelatedPassageRate, Eps);
        Assert.Equal(2.0 / 3, m.DocTypeAccuracy, Eps);
    }

    [Fact]
    public void Document_level_recall_and_precision_are_micro_averages()
    {
        var gold = new[]
        {
            Doc("a.md", [], must: ["A.2.2", "A.5.4", "9.2.1"], may: ["A.7.4"]),
            Doc("b.md", [], must: ["A.6.2.4"]),
            Doc("u.md", [], ai: false, type: "unrelated"), // unrelated: not part of doc_must_recall / doc_precision
        };
        var produced = Produced(
            ("a.md", "policy", [P("x", "A.2.2", "9.2"), P("y", "A.7.4", "A.10.3", "A.2.2")]), // D = {A.2.2, 9.2, A.7.4, A.10.3}
            ("b.md", "policy", [P("z", "A.6.2.4")]),
            ("u.md", "unrelated", [P("w", "A.9.2")]));

        var report = Evaluator.Evaluate(gold, produced);
        var m = report.Metrics;

        // must found: a 2/3 (A.2.2, 9.2.1 via 9.2), b 1/1 -> micro 3/4 (macro would be 0.833)
        Assert.Equal(3.0 / 4, m.DocMustRecall, Eps);
        // D correct: a 3/4 (A.2.2, 9.2, A.7.4), b 1/1 -> micro 4/5 (macro would be 0.875)
        Assert.Equal(4.0 / 5, m.DocPrecision, Eps);
        var a = Assert.Single(report.Documents, d => d.File == "a.md");
        Assert.Equal((2, 3, 3, 4), (a.MustFound, a.MustTotal, a.DocSuggestedCorrect, a.DocSuggested));
    }

    [Fact]
    public void Doc_type_alternatives_are_accepted()
    {
        var gold = new[]
        {
            Doc("m.md", [], type: "model-card", alt: ["data-card"]),
            Doc("p.md", [], type: "policy"),
            Doc("gone.md", [], type: "procedure"),
            Doc("u.md", [], ai: false, type: "unrelated"),
        };
        var produced = Produced(("m.md", "data-card", []), ("p.md", "procedure", []), ("u.md", "unrelated", []));

        var report = Evaluator.Evaluate(gold, produced);

        Assert.Equal(2.0 / 4, report.Metrics.DocTypeAccuracy, Eps);
        Assert.True(Assert.Single(report.Documents, d => d.File == "m.md").DocTypeCorrect);
    }

    [Fact]
    public void Gold_reader_parses_jsonl()
    {
        const string jsonl = """
            {"file": "a.md", "doc_type": "policy", "doc_type_alt": ["procedure"], "ai_relevant": true, "must_controls": ["5.2"], "may_controls": ["A.2.2"], "passages": [{"quote": "q one", "controls": ["5.2"], "also": ["A.2.2"]}, {"quote": "q two", "controls": [], "also": []}]}

            {"file": "b.md", "doc_type": "unrelated", "doc_type_alt": [], "ai_relevant": false, "must_controls": [], "may_controls": [], "passages": []}
            """;
        var gold = GoldReader.Parse(jsonl);

        Assert.Equal(2, gold.Count);
        Assert.Equal(["procedure"], gold[0].DocTypeAlt);
        Assert.Equal(["5.2"], gold[0].MustControls);
        Assert.True(gold[0].Passages[1].IsNull);
        Assert.Equal(["A.2.2"], gold[0].Passages[0].Also);
        Assert.False(gold[1].AiRelevant);
        Assert.Throws<FormatException>(() => GoldReader.Parse("{not json"));
    }

    [Fact]
    public async Task Eval_command_prints_json_with_all_nine_metrics()
    {
        var dir = Directory.CreateTempSubdirectory("aims-eval-test-");
        try
        {
            var files = Directory.CreateDirectory(Path.Combine(dir.FullName, "files"));
            await File.WriteAllTextAsync(Path.Combine(files.FullName, "ai-policy.md"), """
                # Artificial intelligence policy

                ## Roles and responsibilities

                The AI governance board approves this AI policy. Every AI system has a named owner who is accountable for its risk assessment, its impact assessment and its monitoring in production.

                ## Data

                Training data provenance and data quality are documented for every data set used to develop an AI system.
                """, TestContext.Current.CancellationToken);
            await File.WriteAllTextAsync(Path.Combine(files.FullName, "recipe.md"), """
                # Hummus

                Blend the chickpeas with tahini, lemon juice and garlic until smooth. Season with salt and serve with olive oil.
                """, TestContext.Current.CancellationToken);
            var gold = Path.Combine(dir.FullName, "gold.jsonl");
            await File.WriteAllLinesAsync(gold,
            [
                """{"file": "ai-policy.md", "doc_type": "policy", "doc_type_alt": [], "ai_relevant": true, "must_controls": ["A.2.2", "A.3.2"], "may_controls": ["5.2", "A.7.4"], "passages": [{"quote": "Every AI system has a named owner who is accountable for its risk assessment", "controls": ["A.3.2"], "also": []}, {"quote": "Training data provenance and data quality are documented", "controls": ["A.7.5"], "also": ["A.7.4"]}]}""",
                """{"file": "recipe.md", "doc_type": "unrelated", "doc_type_alt": [], "ai_relevant": false, "must_controls": [], "may_controls": [], "passages": []}""",
            ], TestContext.Current.CancellationToken);

            using var stdout = new StringWriter();
            using var stderr = new StringWriter();
            var exit = await AimsCli.RunAsync(["eval", "--gold", gold, "--files", files.FullName, "--json"], stdout, stderr);

            Assert.True(exit == 0, stderr.ToString());
            using var json = JsonDocument.Parse(stdout.ToString());
            var metrics = json.RootElement.GetProperty("metrics");
            foreach (var name in new[] { "passage_recall@3", "passage_precision@3", "passage_f1", "null_fpr", "unrelated_passage_rate", "doc_must_recall", "doc_precision", "doc_type_accuracy", "unmatched_quotes" })
            {
                Assert.True(metrics.TryGetProperty(name, out _), "missing metric " + name);
            }

            Assert.Equal(2, json.RootElement.GetProperty("documents").GetArrayLength());
            Assert.Equal(JsonValueKind.Array, json.RootElement.GetProperty("controls").ValueKind);
            Assert.Equal(JsonValueKind.Array, json.RootElement.GetProperty("confusions").ValueKind);
            Assert.Equal(0, metrics.GetProperty("unmatched_quotes").GetInt32());

            var missing = await AimsCli.RunAsync(["eval", "--gold", Path.Combine(dir.FullName, "nope.jsonl"), "--files", files.FullName], stdout, stderr);
            Assert.Equal(ExitCodes.Usage, missing);

            // --reuse-db measures a kept database as it is: the policy, gone from the folder, is still measured.
            var db = Path.Combine(dir.FullName, "eval.db");
            using var kept = new StringWriter();
            Assert.Equal(0, await AimsCli.RunAsync(["eval", "--gold", gold, "--files", files.FullName, "--json", "--db", db], kept, stderr));
            File.Delete(Path.Combine(files.FullName, "ai-policy.md"));
            using var reused = new StringWriter();
            Assert.Equal(0, await AimsCli.RunAsync(["eval", "--gold", gold, "--files", files.FullName, "--json", "--db", db, "--reuse-db"], reused, stderr));
            using var keptJson = JsonDocument.Parse(kept.ToString());
            using var reusedJson = JsonDocument.Parse(reused.ToString());
            foreach (var name in new[] { "passage_recall@3", "passage_precision@3", "passage_f1", "null_fpr", "doc_must_recall", "doc_precision", "doc_type_accuracy" })
            {
                Assert.Equal(keptJson.RootElement.GetProperty("metrics").GetProperty(name).GetDouble(), reusedJson.RootElement.GetProperty("metrics").GetProperty(name).GetDouble());
            }

            Assert.Equal(2, reusedJson.RootElement.GetProperty("documents").EnumerateArray().Count(d => d.GetProperty("produced").GetBoolean()));
            Assert.Equal(ExitCodes.Usage, await AimsCli.RunAsync(["eval", "--gold", gold, "--files", files.FullName, "--reuse-db"], stdout, stderr));
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
