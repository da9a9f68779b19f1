using System.Text;
using Aims.Evidence.Core.Classification;
using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Inventory;
using Aims.Evidence.Core.Segmentation;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Local;
using Aims.Evidence.Sqlite;

namespace Aims.Evidence.Tests.Inventory;

/// <summary>The AI-system inventory: derivation from stored passages (synthetic documents), merging, edits and their persistence.</summary>
public sealed class AiSystemInventoryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A document run through the real extractor and segmenter, as the store keeps it.</summary>
    private static async Task<InventorySource> SourceAsync(string name, string docType, string text)
    {
        var (extractor, media) = name.EndsWith(".csv", StringComparison.Ordinal)
            ? ((IDocumentExtractor)new CsvExtractor(), MediaTypes.Csv)
            : name.EndsWith(".json", StringComparison.Ordinal) ? (new StructuredDataExtractor(), MediaTypes.Json) : (new MarkdownExtractor(), MediaTypes.Markdown);
        var extracted = await extractor.ExtractAsync(Encoding.UTF8.GetBytes(text), new ExtractionContext(name, media, ExtractionLimits.Default), Ct);
        var doc = new DocumentRecord { Id = "d-" + name, Name = name, Sha256 = "0", DocType = docType, Status = DocumentStatus.Processed };
        var passages = new Segmenter().Segment(extracted).Select(p => new PassageRecord
        {
            Id = $"{doc.Id}-{p.Ordinal}", DocumentId = doc.Id, Ordinal = p.Ordinal, Page = p.Page, Headings = p.Headings, Text = p.Text,
            Kind = p.Kind.ToString().ToLowerInvariant(), RowStart = p.RowStart, RowEnd = p.RowEnd,
        }).ToArray();
        return new InventorySource(doc, passages);
    }

    private const string Card = """
        # Model Card for Fabrikam Triage-3B

        ## Model Details

        Fabrikam Triage-3B is a language model that sorts incoming patient messages by urgency for the clinic's nurses.

        ## Intended uses

        Sorting messages; it never answers patients.
        """;

    private const string Inventory = """
        Use Case Name,Bureau/Component,Vendor Name,Development Stage,High Impact,Purpose
        Benefit Letter Drafting (BLD),Claims Office,Contoso,Pilot,No,Drafts letters to claimants for a caseworker to check
        Fraud Lead Scoring,Audit Division,,In production,Yes,Ranks claims for investigation
        Fraud Lead Scoring,Audit Division,,In production,Yes,Ranks claims for investigation (second site)
        Fraud Lead Scoring,Customs Unit,,Retired,No,Ranks parcels for inspection
        """;

    [Fact]
    public async Task A_model_card_yields_its_subject_with_a_citation()
    {
        var systems = AiSystemInventoryBuilder.Build([await SourceAsync("triage-card.md", DocumentTypes.ModelCard, Card)]);
        var system = Assert.Single(systems);
        Assert.Equal("Fabrikam Triage-3B", system.Name);
        Assert.Equal("developer", system.Role);
        Assert.Equal("model", system.Kind);
        Assert.StartsWith("Fabrikam Triage-3B is a language model", system.Purpose, StringComparison.Ordinal);
        Assert.Equal("triage-card.md", Assert.Single(system.Citations).DocumentName);
        Assert.Equal(AiSystemInventoryBuilder.IdOf("Fabrikam Triage-3B"), system.Id);
    }

    [Theory]
    [InlineData("Contoso Reader (aka Reader 2)", "Contoso Reader", "Reader 2")]
    [InlineData("Contoso Reader\n(Previously Reader Lite)", "Contoso Reader", "Reader Lite")]
    [InlineData("Contoso Reader (previously named Reader Lite)", "Contoso Reader", "Reader Lite")]
    [InlineData("Contoso Reader (formerly known as Reader Lite)", "Contoso Reader", "Reader Lite")]
    [InlineData("Contoso Reader (renamed from Reader Lite)", "Contoso Reader", "Reader Lite")]
    [InlineData("Contoso Reader (pilot, previously manual)", "Contoso Reader (pilot, previously manual)", null)]
    public void A_former_name_in_brackets_is_an_alias(string cell, string name, string? alias)
    {
        var (main, aliases) = AiSystemInventoryBuilder.SplitAliases(cell);
        Assert.Equal(name, main);
        Assert.Equal(alias is null ? [] : [alias], aliases);
    }

    [Theory]
    [InlineData("Model card for Contoso Reader", "Contoso Reader")]
    [InlineData("Contoso Reader Model Card", "Contoso Reader")]
    [InlineData("Transparency note for Contoso Reader", "Contoso Reader")]
    [InlineData("Contoso Reader (aka Reader 2) Transparency Notes", "Contoso Reader (aka Reader 2)")]
    [InlineData("Contoso Reader: Responsible AI FAQ", "Contoso Reader")]
    [InlineData("Use cases for Contoso Reader", "Contoso Reader")]
    [InlineData("Information security policy", null)]
    [InlineData("What is a Transparency Note?", null)]
    public void A_title_names_its_subject_only_when_it_says_so(string title, string? subject) =>
        Assert.Equal(subject, AiSystemInventoryBuilder.SubjectOfTitle(title));

    [Fact]
    public async Task Inventory_rows_with_a_slash_header_are_one_system_per_name_and_unit_with_their_columns()
    {
        var systems = AiSystemInventoryBuilder.Build([await SourceAsync("register.csv", DocumentTypes.Inventory, Inventory)]);

        // Three systems: the same name in the same unit is one (two rows), in another unit another.
        Assert.Equal(3, systems.Count);
        var letters = Assert.Single(systems, s => s.Name == "Benefit Letter Drafting (BLD)");
        Assert.Equal(("Claims Office", "Contoso", "Pilot", "No", "deployer", "use-case"), (letters.Unit, letters.Provider, letters.Lifecycle, letters.RiskLevel, letters.Role, letters.Kind));
        Assert.Equal("Drafts letters to claimants for a caseworker to check", letters.Purpose);
        Assert.Equal(["Benefit Letter Drafting", "BLD"], letters.Aliases);
        Assert.Equal("register.csv, sheet 1, row 2, Benefit Letter Drafting (BLD)", Assert.Single(letters.Citations).Citation);
        var audit = Assert.Single(systems, s => s.Name == "Fraud Lead Scoring" && s.Unit == "Audit Division");
        Assert.Equal([3, 4], audit.Citations.Select(c => c.RowStart));
        Assert.Equal("Yes", audit.RiskLevel);
        Assert.Single(systems, s => s.Name == "Fraud Lead Scoring" && s.Unit == "Customs Unit");
        Assert.Equal(0, CsvExtractor.KeyColumn(["Use Case Name", "Bureau/Component", "Vendor Name"]));
        Assert.Equal(2, CsvExtractor.KeyColumn(["agency_name", "vendor_name", "use_case_name"]));
    }

    [Fact]
    public async Task A_table_of_indicators_is_not_an_inventory_and_a_register_of_records_is()
    {
        var indicators = await SourceAsync("indicators.csv", DocumentTypes.AuditReport, "Indicator,Definition,Score\nData size,How large is the data,1\nCompute usage,How much compute,0\n");
        const string Register = """
            {"algorithms": [
              {"title": "Parking Scan Car", "organisation": "City of Example", "status": "in use", "id": "1"},
              {"title": "Waste Route Planner", "organisation": "City of Example", "status": "pilot", "id": "2"},
              {"title": "Noise Sensor Classifier", "organisation": "City of Example", "status": "retired", "id": "3"}
            ]}
            """;
        var register = await SourceAsync("register.json", DocumentTypes.DataCard, Register);
        var systems = AiSystemInventoryBuilder.Build([indicators, register]);
        Assert.Equal(["Noise Sensor Classifier", "Parking Scan Car", "Waste Route Planner"], systems.Select(s => s.Name));
        Assert.All(systems, s => Assert.Equal(("City of Example", "register.json"), (s.Unit, s.Citations[0].DocumentName)));
        Assert.Equal("pilot", systems[2].Lifecycle);
    }

    [Fact]
    public async Task The_same_system_merges_across_documents_and_a_data_card_yields_none()
    {
        var note = await SourceAsync("note.md", DocumentTypes.Reference, "# Transparency note for Fabrikam Triage-3B\n\n## Limitations\n\nIt may misjudge urgency in messages written in other languages.\n");
        var card = await SourceAsync("triage-card.md", DocumentTypes.ModelCard, Card);
        var dataCard = await SourceAsync("datasheet.md", DocumentTypes.DataCard, "# Datasheet for Clinic Messages 2024\n\n## Motivation\n\nThe data set was made to train Fabrikam Triage-3B.\n\n## Model Details\n\nNone.\n");
        var policy = await SourceAsync("policy.md", DocumentTypes.Policy, "# Acceptable use policy\n\n## Scope\n\nStaff may use approved tools such as chat assistants to draft text.\n");
        var systems = AiSystemInventoryBuilder.Build([card, note, dataCard, policy]);
        var system = Assert.Single(systems);
        Assert.Equal(["triage-card.md", "note.md"], system.Citations.Select(c => c.DocumentName));
    }

    [Fact]
    public void Scoring_matches_names_and_aliases_one_to_one()
    {
        AiSystem P(string name, string? unit = null, params string[] aliases) => new() { Id = AiSystemInventoryBuilder.IdOf(name, unit), Name = name, Unit = unit, Aliases = aliases };
        var predicted = new[] { P("The Reader model"), P("Scan", "A"), P("Scan", "B"), P("Scan", "C"), P("X-ray Analytics (XRA)", null, "XRA"), P("Unlisted") };
        var gold = new[] { new GoldSystem("reader", null, null), new GoldSystem("Scan", null, "B"), new GoldSystem("Scan", null, "A"), new GoldSystem("XRA tool", ["XRA"], null), new GoldSystem("Missing One", null, null) };
        var score = InventoryEvaluation.Score(predicted, gold);
        Assert.Equal((5, 6, 4), (score.Gold, score.Predicted, score.Matched));
        Assert.Equal(["Missing One"], score.Misses);
        Assert.Equal(["Scan (C)", "Unlisted"], score.FalsePositives);
        Assert.Equal(4 / 6.0, score.Precision, 6);
        Assert.Equal(0.8, score.Recall, 6);
    }

    [Fact]
    public async Task Reviewer_edits_persist_in_sqlite_and_survive_re_ingestion_of_a_changed_document()
    {
        using var tmp = new TempDir();
        using var aims = await LocalAims.OpenAsync(tmp.Db, cancellationToken: Ct);
        var pipeline = aims.CreatePipeline();
        await pipeline.IngestAsync("register.csv", Encoding.UTF8.GetBytes(Inventory), Ct);
        await pipeline.IngestAsync("triage-card.md", Encoding.UTF8.GetBytes(Card), Ct);
        await pipeline.IngestAsync("note.md", Encoding.UTF8.GetBytes("# Transparency note for Fabrikam Triage-3B\n\n## Limitations\n\nIt may misjudge urgency in messages written in other languages.\n"), Ct);
        var inventory = aims.Evidence.Inventory;
        var before = await inventory.ListAsync(Ct);
        var triage = Assert.Single(before, s => s.Name == "Fabrikam Triage-3B");
        Assert.Equal(2, triage.Citations.Count);
        var letters = before.Single(s => s.Name.StartsWith("Benefit Letter", StringComparison.Ordinal));
        var customs = before.Single(s => s.Unit == "Customs Unit");
        var audit = before.Single(s => s.Unit == "Audit Division");

        var store = aims.Store;
        await store.AddAiSystemEditAsync(new AiSystemEdit { Action = AiSystemEditActions.Rename, SystemId = letters.Id, Name = "Letter Assistant", Actor = "rev" }, Ct);
        await store.AddAiSystemEditAsync(new AiSystemEdit { Action = AiSystemEditActions.Merge, SystemId = customs.Id, TargetId = audit.Id, Actor = "rev" }, Ct);
        await store.AddAiSystemEditAsync(new AiSystemEdit { Action = AiSystemEditActions.Split, SystemId = triage.Id, Name = "Fabrikam Triage-3B (note)", Documents = ["note.md"], Actor = "rev" }, Ct);
        await store.AddAiSystemEditAsync(new AiSystemEdit { Action = AiSystemEditActions.Add, SystemId = AiSystemInventoryBuilder.IdOf("Hand Tool"), Name = "Hand Tool", Role = "user", Actor = "rev" }, Ct);
        await store.AddAiSystemEditAsync(new AiSystemEdit { Action = AiSystemEditActions.Confirm, SystemId = audit.Id, Actor = "rev" }, Ct);

        // The register changes (a new row; the rejected system's row stays): a new version with new passages.
        await pipeline.IngestAsync("register.csv", Encoding.UTF8.GetBytes(Inventory + "\nQueue Forecaster,Claims Office,,Pilot,No,Forecasts call volumes\n"), Ct);
        var forecaster = (await inventory.ListAsync(Ct)).Single(s => s.Name == "Queue Forecaster");
        await store.AddAiSystemEditAsync(new AiSystemEdit { Action = AiSystemEditActions.Reject, SystemId = forecaster.Id, Actor = "rev" }, Ct);
        await pipeline.IngestAsync("register.csv", Encoding.UTF8.GetBytes(Inventory + "\nQueue Forecaster,Claims Office,,Pilot,No,Forecasts call volumes (v3)\n"), Ct);

        var after = await inventory.ListAsync(Ct);
        Assert.Equal(
            ["Fabrikam Triage-3B", "Fabrikam Triage-3B (note)", "Fraud Lead Scoring", "Hand Tool", "Letter Assistant"],
            after.Select(s => s.Name));
        var renamed = after.Single(s => s.Name == "Letter Assistant");
        Assert.Equal(letters.Id, renamed.Id);
        Assert.Contains("Benefit Letter Drafting (BLD)", renamed.Aliases);
        var merged = after.Single(s => s.Name == "Fraud Lead Scoring");
        Assert.True(merged.Confirmed);
        Assert.Equal(3, merged.Citations.Count);
        Assert.Equal(["triage-card.md"], after.Single(s => s.Name == "Fabrikam Triage-3B").Citations.Select(c => c.DocumentName));
        Assert.Equal(["note.md"], after.Single(s => s.Name == "Fabrikam Triage-3B (note)").Citations.Select(c => c.DocumentName));
        Assert.Equal(("manual", "user"), (after.Single(s => s.Name == "Hand Tool").Source, after.Single(s => s.Name == "Hand Tool").Role));

        // Every edit is audited; the edits are read back from the file by a new store.
        var actions = (await store.ListAuditAsync(0, 100, Ct)).Where(a => a.Action.StartsWith("aisystem.", StringComparison.Ordinal)).Select(a => a.Action).ToArray();
        Assert.Equal(["aisystem.rename", "aisystem.merge", "aisystem.split", "aisystem.add", "aisystem.confirm", "aisystem.reject"], actions);
        using var reopened = new SqliteEvidenceStore(tmp.Db);
        Assert.Equal(6, (await reopened.ListAiSystemEditsAsync(Ct)).Count);
    }

    [Fact]
    public async Task Aims_eval_inventory_ingests_a_folder_and_prints_precision_recall_and_the_misses()
    {
        using var tmp = new TempDir();
        var files = Directory.CreateDirectory(Path.Combine(tmp.Path, "files")).FullName;
        await File.WriteAllTextAsync(Path.Combine(files, "register.csv"), Inventory, Ct);
        await File.WriteAllTextAsync(Path.Combine(files, "triage-card.md"), Card, Ct);
        var gold = Path.Combine(tmp.Path, "gold.json");
        await File.WriteAllTextAsync(gold, """
            {"systems":[
              {"name":"Fabrikam Triage-3B","aliases":[],"unit":null},
              {"name":"BLD","aliases":["Benefit Letter Drafting"],"unit":"Claims Office"},
              {"name":"Fraud Lead Scoring","unit":"Audit Division"},
              {"name":"Parcel Router","unit":"Customs Unit"}
            ]}
            """, Ct);
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await Aims.Evidence.Cli.AimsCli.RunAsync(["eval-inventory", "--gold", gold, "--files", files], output, error);
        Assert.True(code == 0, error.ToString());
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains("gold 4, predicted 4, matched 3: precision 0.750, recall 0.750", lines);
        Assert.Contains("miss: Parcel Router (Customs Unit)", lines);
        Assert.Contains("false positive: Fraud Lead Scoring (Customs Unit)", lines);
        var missing = await Aims.Evidence.Cli.AimsCli.RunAsync(["eval-inventory", "--gold", gold + ".absent", "--files", files], output, error);
        Assert.Equal(2, missing);
    }
}
