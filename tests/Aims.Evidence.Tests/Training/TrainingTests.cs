using System.Security.Cryptography;
using System.Text;
using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Mapping.Trained;
using Aims.Evidence.Core.Segmentation;
using Aims.Evidence.Training;

namespace Aims.Evidence.Tests.Training;

public sealed class TrainingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string SyntheticDir => Path.Combine(TestPaths.RepoRoot, "src", "Aims.Evidence.Training", "Synthetic");

    private static string LabelsDir => Path.Combine(TestPaths.RepoRoot, "src", "Aims.Evidence.Training", "Labels");

    [Fact]
    public void Multinomial_weights_are_in_class_order()
    {
        // ML.NET key columns are easy to shift by one; the exported weights must score class c as class c.
        var rnd = new Random(7);
        var x = new List<double[]>();
        var y = new List<int>();
        for (var i = 0; i < 400; i++)
        {
            var c = i % 5;
            var v = Enumerable.Range(0, 6).Select(_ => rnd.NextDouble() * 0.1).ToArray();
            v[c] += 1;
            x.Add(v);
            y.Add(c);
        }

        var model = MlModels.Multinomial(x, y, 5, 1);
        var right = x.Select((v, i) => Array.IndexOf(model.Probabilities(v), model.Probabilities(v).Max()) == y[i]).Count(ok => ok);
        Assert.True(right >= 390, $"{right}/400 rows scored as their own class");
    }

    [Fact]
    public void Exported_trees_and_logistic_model_score_like_the_learner()
    {
        var rnd = new Random(3);
        var x = Enumerable.Range(0, 2000).Select(_ => Enumerable.Range(0, 4).Select(_ => rnd.NextDouble()).ToArray()).ToArray();
        var y = x.Select(v => v[0] + (0.5 * v[1]) > 0.8).ToArray();
        var trees = MlModels.Trees(x, y, 1, 30, 8, 0.2); // throws when the export disagrees with ML.NET's own score
        var accuracy = x.Select((v, i) => (trees.Score(v) > 0) == y[i]).Count(ok => ok) / (double)x.Length;
        Assert.True(accuracy > 0.95, $"trees accuracy {accuracy}");
        var linear = MlModels.Logistic(x, y, 1);
        var linAccuracy = x.Select((v, i) => (linear.Probabilities(v)[0] > 0.5) == y[i]).Count(ok => ok) / (double)x.Length;
        Assert.True(linAccuracy > 0.9, $"logistic accuracy {linAccuracy}");
    }

    [Fact]
    public void Isotonic_calibration_is_monotone_and_matches_observed_rates()
    {
        var rnd = new Random(5);
        var scores = Enumerable.Range(0, 5000).Select(_ => (rnd.NextDouble() * 6) - 3).ToArray();
        var outcomes = scores.Select(s => rnd.NextDouble() < LinearModel.Sigmoid(2 * s)).ToArray();
        var cal = IsotonicCalibration.Fit(scores, outcomes);
        var grid = Enumerable.Range(-30, 61).Select(i => cal.Map(i / 10.0)).ToArray();
        Assert.All(grid.Zip(grid.Skip(1)), pair => Assert.True(pair.Second >= pair.First));
        Assert.InRange(cal.Map(0), 0.4, 0.6);
        Assert.InRange(cal.Map(2), 0.9, 1.0);
    }

    [Fact]
    public void Labels_follow_the_text_not_the_passage_numbers()
    {
        var b = new LayoutBuilder();
        b.Heading("Policy", 1);
        b.Paragraph("The AI policy is approved by the board and reviewed every year by the governance committee.");
        b.Heading("Lunch", 1);
        b.Paragraph("The canteen opens at noon and serves soup on Fridays, weather permitting, for all staff.");
        var doc = b.Build(MediaTypes.Markdown);
        var passages = new Segmenter().Segment(doc);
        var spans = new[]
        {
            new SpanLabel { Start = passages[0].Start, Length = passages[0].Length, Hash = SpanLabel.HashOf(passages[0].Text), Controls = ["5.2"] },
            new SpanLabel { Start = passages[1].Start, Length = passages[1].Length, Hash = SpanLabel.HashOf(passages[1].Text) },
        };

        // Re-segmented differently (one passage per block, in another order of numbering), labels still land by span.
        var reversed = passages.Reverse().Select((p, i) => p with { Ordinal = i }).ToArray();
        var assigned = TrainingCorpus.Assign(reversed, spans);
        Assert.Equal(["5.2"], assigned[1]!.Controls);
        Assert.Empty(assigned[0]!.Controls);
        Assert.Equal(SpanLabel.HashOf(doc.Text.Substring(spans[0].Start, spans[0].Length)), spans[0].Hash);

        // A passage no label span covers by half stays unlabelled.
        var orphan = passages[0] with { Start = doc.Text.Length + 10, Length = 20 };
        Assert.Null(TrainingCorpus.Assign([orphan], spans)[0]);
    }

    [Fact]
    public void The_label_files_hold_no_document_text()
    {
        // Labels point into documents by span and hash; no string of six or more words from a labelled file appears.
        foreach (var file in Directory.GetFiles(LabelsDir, "*.jsonl", SearchOption.AllDirectories))
        {
            var hashes = Path.GetFileName(Path.GetDirectoryName(file)) == "polarity"
                ? PolarityDocument.Read(file).SelectMany(d => d.Spans.Select(s => s.Hash))
                : LabelFiles.Read(file).SelectMany(d => d.Spans.Select(s => s.Hash));
            Assert.All(hashes, h => Assert.Matches("^[0-9a-f]{16}$", h));

            var text = File.ReadAllText(file);
            Assert.DoesNotContain("\"text\"", text, StringComparison.Ordinal);
            Assert.DoesNotContain("\"quote\"", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_polarity_set_is_half_findings_judged_by_two_labellers()
    {
        var set = PolarityDocument.Read(Path.Combine(LabelsDir, "polarity", "set.jsonl"));
        var spans = set.SelectMany(d => d.Spans).ToArray();
        Assert.True(spans.Length >= 200);
        Assert.InRange(spans.Count(s => s.IsFinding) / (double)spans.Length, 0.45, 0.55);
        Assert.All(spans, s => Assert.Contains(s.Polarity, new[] { "finding", "supports" }));
        Assert.All(spans, s => Assert.True(s.First is not null && s.Second is not null));

        // Every span of the set is a labelled evidence passage of the real training labels, with the same polarity.
        var real = LabelFiles.Read(Path.Combine(LabelsDir, "real.jsonl")).ToDictionary(d => d.File);
        foreach (var doc in set)
        {
            Assert.Equal(real[doc.File].Sha256, doc.Sha256);
            foreach (var span in doc.Spans)
            {
                var label = real[doc.File].Spans.Single(s => s.Start == span.Start && s.Length == span.Length);
                Assert.Equal(span.Hash, label.Hash);
                Assert.NotEmpty(label.Controls);
                Assert.Equal(span.IsFinding, label.Finding);
            }
        }
    }

    [Fact]
    public async Task Label_agreement_compares_polarity_on_the_passages_both_labellers_call_evidence()
    {
        var dir = Directory.CreateTempSubdirectory("aims-agree-");
        try
        {
            var doc = Path.Combine(dir.FullName, "review.md");
            await File.WriteAllTextAsync(doc, string.Join("\n\n", [
                "# Policy", "The AI policy was approved by the board in March and is reviewed every year by the governance committee.",
                "# Risk", "No AI risk assessment has been carried out for the triage model since it was retrained in the spring.",
                "# Monitoring", "Drift monitoring runs weekly, but the alert threshold was exceeded twice and nobody acted on either alert.",
                "# Canteen", "The canteen opens at noon and serves soup on Fridays, weather permitting, for all members of staff."]), Ct);
            var count = new Segmenter().Segment(await DocumentReader.CreateDefault().ReadAsync(await File.ReadAllBytesAsync(doc, Ct), "review.md", ExtractionLimits.Default, Ct)).Count;
            Assert.Equal(4, count);

            // Both call 0-2 evidence and 3 none; the first calls 1 and 2 findings, the second only 1.
            async Task<TrainingCorpus> Labelled(string name, bool secondIsFinding)
            {
                var json = Path.Combine(dir.FullName, name);
                await File.WriteAllTextAsync(json, $$"""
                    {"file": "review.md", "doc_type": "audit-report", "ranges": [
                      {"from": 0, "to": 0, "controls": ["5.2"]},
                      {"from": 1, "to": 1, "controls": ["6.1.2"], "finding": true},
                      {"from": 2, "to": 2, "controls": ["9.1"], "finding": {{(secondIsFinding ? "true" : "false")}}},
                      {"from": 3, "to": 3, "controls": []}]}
                    """, Ct);
                var labels = await LabelImporter.ImportAsync(json, doc, "first", synthetic: true, Ct);
                return await TrainingCorpus.LoadAsync([labels], [dir.FullName], Ct);
            }

            var agreement = LabelAgreement.Compare(await Labelled("a.json", true), await Labelled("b.json", false));
            Assert.Equal(4, agreement.Passages);
            Assert.Equal(1.0, agreement.Kappa, 6);
            Assert.Equal(3, agreement.PolarityPassages);
            Assert.Equal((2, 1), agreement.PolarityFindings);
            Assert.Equal(2 / 3.0, agreement.PolarityObserved, 6);

            // Cohen: expected agreement 2/3 * 1/3 + 1/3 * 2/3 = 4/9, kappa (2/3 - 4/9) / (1 - 4/9) = 0.4.
            Assert.Equal(0.4, agreement.PolarityKappa, 6);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Aims_eval_polarity_ingests_a_folder_and_scores_the_stored_polarity_against_judged_spans()
    {
        var dir = Directory.CreateTempSubdirectory("aims-eval-polarity-");
        try
        {
            var files = Directory.CreateDirectory(Path.Combine(dir.FullName, "files")).FullName;
            var doc = Path.Combine(files, "audit.md");
            await File.WriteAllTextAsync(doc, string.Join("\n\n", [
                "# Internal audit report: AI management system",
                "## AI risk assessment", "No AI risk assessment has been carried out for the triage model since it was retrained, the risk register has not been updated, and the corrective action raised at the last audit is overdue.",
                "## AI policy", "The AI policy was approved by the board in March, is published on the intranet and is reviewed every year by the AI governance committee, which records the review in its minutes."]), Ct);
            var bytes = await File.ReadAllBytesAsync(doc, Ct);
            var extracted = await DocumentReader.CreateDefault().ReadAsync(bytes, "audit.md", ExtractionLimits.Default, Ct);
            var passages = new Segmenter().Segment(extracted);
            var risk = passages.Single(p => p.Text.Contains("No AI risk assessment", StringComparison.Ordinal));
            var policy = passages.Single(p => p.Text.Contains("approved by the board", StringComparison.Ordinal));
            string Span(Passage p, string polarity) => $$"""{"start":{{p.Start}},"length":{{p.Length}},"hash":"{{SpanLabel.HashOf(p.Text)}}","polarity":"{{polarity}}"}""";
            var judged = Path.Combine(dir.FullName, "judged.jsonl");
            await File.WriteAllTextAsync(judged, $$"""{"file":"audit.md","sha256":"{{Convert.ToHexStringLower(SHA256.HashData(bytes))}}","spans":[{{Span(risk, "finding")}},{{Span(policy, "supports")}}]}""" + "\n", Ct);

            using var output = new StringWriter();
            using var error = new StringWriter();
            var code = await Aims.Evidence.Cli.AimsCli.RunAsync(["eval-polarity", "--files", files, "--polarity", judged, "--json"], output, error);
            Assert.True(code == 0, error.ToString());
            var text = output.ToString();
            using var json = System.Text.Json.JsonDocument.Parse(text[text.IndexOf('{', StringComparison.Ordinal)..]);
            Assert.Equal(2, json.RootElement.GetProperty("passages").GetInt32());
            Assert.Equal(1, json.RootElement.GetProperty("findings").GetInt32());
            Assert.Equal(1, json.RootElement.GetProperty("true_positives").GetInt32());
            Assert.Equal(0, json.RootElement.GetProperty("false_positives").GetInt32());
            Assert.Equal(1.0, json.RootElement.GetProperty("recall").GetDouble());
            var perDocument = Assert.Single(json.RootElement.GetProperty("documents").EnumerateArray());
            Assert.Equal("audit.md", perDocument.GetProperty("file").GetString());
            Assert.False(string.IsNullOrEmpty(perDocument.GetProperty("doc_type").GetString()));
            Assert.Equal(1, perDocument.GetProperty("true_positives").GetInt32());

            // The text report names each document with its type and counts.
            using var text2 = new StringWriter();
            Assert.Equal(0, await Aims.Evidence.Cli.AimsCli.RunAsync(["eval-polarity", "--files", files, "--polarity", judged], text2, error));
            Assert.Contains("audit.md  [", text2.ToString(), StringComparison.Ordinal);
            Assert.Contains("1/1 found, 0 false, of 2 judged passages", text2.ToString(), StringComparison.Ordinal);

            Assert.NotEqual(0, await Aims.Evidence.Cli.AimsCli.RunAsync(["eval-polarity", "--files", files, "--polarity", judged + ".absent"], output, error));
            var broken = Path.Combine(dir.FullName, "broken.jsonl");
            await File.WriteAllTextAsync(broken, "not json\n", Ct);
            Assert.Equal(Aims.Evidence.Cli.ExitCodes.Usage, await Aims.Evidence.Cli.AimsCli.RunAsync(["eval-polarity", "--files", files, "--polarity", broken], output, error));
            Assert.Contains("broken.jsonl", error.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Synthetic_labels_match_the_shipped_synthetic_documents()
    {
        var labels = LabelFiles.Read(Path.Combine(LabelsDir, "synthetic.jsonl"));
        var corpus = await TrainingCorpus.LoadAsync(labels, [SyntheticDir], Ct);
        Assert.Empty(corpus.Problems);
        Assert.Equal(labels.Count, corpus.Documents.Count);
        Assert.All(corpus.Documents, d => Assert.True(d.Labels.Synthetic));
        Assert.Equal(corpus.Documents.Sum(d => d.Passages.Count), corpus.LabelledPassages);
    }

    [Fact]
    public async Task Polarity_only_labels_match_their_synthetic_documents()
    {
        var labels = LabelFiles.Read(Path.Combine(LabelsDir, "polarity-only.jsonl"));
        var corpus = await TrainingCorpus.LoadAsync(labels, [SyntheticDir], Ct);
        Assert.Empty(corpus.Problems);
        Assert.Equal(labels.Count, corpus.Documents.Count);
        Assert.All(corpus.Documents, d => Assert.True(d.Labels.Synthetic && d.Labels.PolarityOnly));
        Assert.Equal(corpus.Documents.Sum(d => d.Passages.Count), corpus.LabelledPassages);
        var synthetic = LabelFiles.Read(Path.Combine(LabelsDir, "synthetic.jsonl"));
        Assert.All(synthetic, d => Assert.False(d.PolarityOnly));
        Assert.Empty(labels.Select(l => l.File).Intersect(synthetic.Select(l => l.File)));
    }

    [Theory]
    [InlineData("polarity-heldout", "polarity-hard-supports")]
    [InlineData("polarity-hard-supports", "polarity-heldout")]
    public void Held_out_polarity_reports_match_their_labels_and_stay_out_of_training(string set, string otherSet)
    {
        var folder = Path.Combine(TestPaths.RepoRoot, "tests", "eval", set);
        var judged = PolarityDocument.Read(Path.Combine(TestPaths.RepoRoot, "tests", "eval", set + ".jsonl"));
        Assert.DoesNotContain(judged, d => File.Exists(Path.Combine(TestPaths.RepoRoot, "tests", "eval", otherSet, d.File)));
        Assert.Equal(Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal), judged.Select(d => d.File).Order(StringComparer.Ordinal));
        foreach (var doc in judged)
        {
            Assert.Equal(doc.Sha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(folder, doc.File)))));
            Assert.NotEmpty(doc.Spans);
            Assert.All(doc.Spans, s => Assert.Contains(s.Polarity, new[] { "finding", "supports" }));
        }

        // Measuring only: no training label and no synthetic training document names a held-out report.
        var trained = Directory.GetFiles(LabelsDir, "*.jsonl").SelectMany(LabelFiles.Read).Select(l => l.File).ToHashSet(StringComparer.Ordinal);
        Assert.Empty(judged.Where(d => trained.Contains(d.File) || File.Exists(Path.Combine(SyntheticDir, d.File))).Select(d => d.File));
    }

    [Fact]
    [Trait(Tiers.Name, Tiers.Slow)]
    public async Task Polarity_only_documents_change_the_polarity_model_and_nothing_else()
    {
        var synthetic = LabelFiles.Read(Path.Combine(LabelsDir, "synthetic.jsonl"));
        var extra = LabelFiles.Read(Path.Combine(LabelsDir, "polarity-only.jsonl"));
        var without = await TrainingCorpus.LoadAsync(synthetic, [SyntheticDir], Ct);
        var with = await TrainingCorpus.LoadAsync(synthetic.Concat(extra), [SyntheticDir], Ct);
        var options = new TrainOptions { Folds = 3, Trees = 20, Learner = "trees" };
        var a = await new Trainer(HashEmbed(1), HashEmbed(2)).TrainAsync(without, options, Ct);
        var b = await new Trainer(HashEmbed(1), HashEmbed(2)).TrainAsync(with, options, Ct);
        Assert.Equal(a.Report.Documents, b.Report.Documents);
        Assert.Equal(a.Report.LabelledPassages, b.Report.LabelledPassages);
        Assert.NotEqual(PolarityBytes(a.Model.Polarity!), PolarityBytes(b.Model.Polarity!));

        // Everything but the polarity model (and the version, a hash of all of it) is byte for byte the same.
        var polarity = a.Model.Polarity;
        Assert.Equal((a.Model with { Version = string.Empty }).ToBytes(), (b.Model with { Version = string.Empty, Polarity = polarity }).ToBytes());
        Assert.All(a.Report.Metrics.Where(kv => !kv.Key.StartsWith("polarity", StringComparison.Ordinal)), kv => Assert.Equal(kv.Value, b.Report.Metrics[kv.Key]));
    }

    [Fact]
    [Trait(Tiers.Name, Tiers.Slow)]
    public async Task Training_is_deterministic_byte_for_byte()
    {
        // Same corpus, same labels, same seeds: the same model bytes. Vectors come from a hash embedder here so that
        // the test exercises the learners and serialisation quickly; the shipped model test below uses the real encoders.
        var labels = LabelFiles.Read(Path.Combine(LabelsDir, "synthetic.jsonl"));
        var corpus = await TrainingCorpus.LoadAsync(labels, [SyntheticDir], Ct);
        var options = new TrainOptions { Folds = 3, Trees = 20, Learner = "trees" };
        var first = await new Trainer(HashEmbed(1), HashEmbed(2)).TrainAsync(corpus, options, Ct);
        var second = await new Trainer(HashEmbed(1), HashEmbed(2)).TrainAsync(corpus, options, Ct);
        var a = first.Model.ToBytes();
        Assert.Equal(a, second.Model.ToBytes());
        var reloaded = TrainedModel.FromBytes(a);
        Assert.Equal(a, reloaded.ToBytes());
        Assert.Equal(first.Model.Version, reloaded.Version);
        Assert.InRange(first.Report.Metrics["expected_calibration_error"], 0, 0.2);

        // aims train --polarity-only: the same polarity model and out-of-fold figures, with MiniLM for the written
        // classifier's document types only, as long as the model's document type is the written classifier's decision.
        Assert.Equal("written", first.Model.DocTypeDecision);
        var (polarity, figures) = await Trainer.TrainPolarityOnlyAsync(corpus, HashEmbed(1), options, Ct);
        Assert.Equal(PolarityBytes(first.Model.Polarity!), PolarityBytes(polarity));
        Assert.NotEmpty(figures);
        Assert.All(figures, kv => Assert.Equal(first.Report.Metrics[kv.Key], kv.Value));
    }

    private static byte[] PolarityBytes(PolarityModel model)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream))
        {
            model.Write(w);
        }

        return stream.ToArray();
    }

    private static EmbedTexts HashEmbed(int seed) => (texts, _) => Task.FromResult(texts.Select(t =>
    {
        // A bag of hashed words, L2-normalised: similar texts get similar vectors.
        var v = new float[384];
        foreach (var w in t.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var h = BitConverter.ToUInt32(SHA256.HashData(Encoding.UTF8.GetBytes(seed + w)), 0);
            v[h % 384] += 1;
        }

        var norm = MathF.Sqrt(v.Sum(x => x * x));
        return v.Select(x => norm == 0 ? 0 : x / norm).ToArray();
    }).ToArray());
}

/// <summary>The shipped model is exactly what <c>aims train</c> builds from the training corpus and the labels in the tree.</summary>
[Trait(Tiers.Name, Tiers.Slow)]
public sealed class ShippedModelTests
{
    [Fact]
    public async Task Aims_train_rebuilds_the_shipped_model_byte_for_byte()
    {
        var corpus = Path.Combine(TestPaths.SharedDir, "training");
        if (!Directory.Exists(Path.Combine(corpus, "files")))
        {
            Assert.Skip($"The training corpus is not present at {corpus}; the rebuild test is skipped.");
        }

        var shipped = TrainedModel.EmbeddedBytes();
        Assert.NotNull(shipped);
        using var tmp = new TempDir();
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await Aims.Evidence.Cli.AimsCli.RunAsync(["train", "--corpus", corpus, "--out", Path.Combine(tmp.Path, "model.bin")], output, error);
        Assert.True(code == 0, error.ToString());
        var rebuilt = await File.ReadAllBytesAsync(Path.Combine(tmp.Path, "model.bin"), TestContext.Current.CancellationToken);
        Assert.True(shipped.AsSpan().SequenceEqual(rebuilt), $"rebuilt {TrainedModel.Hash(rebuilt)} differs from shipped {TrainedModel.Hash(shipped)}\n{output}");
    }
}
