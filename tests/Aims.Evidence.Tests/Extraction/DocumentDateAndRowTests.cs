using System.Text;
using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Gaps;
using Aims.Evidence.Core.Segmentation;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Hosting;
using Aims.Evidence.Local;

namespace Aims.Evidence.Tests.Extraction;

/// <summary>The documents' own dates (staleness uses them) and table rows that cite their cells.</summary>
public sealed class DocumentDateAndRowTests
{
    private static readonly DateTimeOffset Today = new(2026, 12, 3, 9, 0, 0, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<ExtractedDocument> ReadAsync(string name, string text) =>
        await DocumentReader.CreateDefault().ReadAsync(Encoding.UTF8.GetBytes(text), name, ExtractionLimits.Default, Ct);

    [Theory]
    [InlineData("# Model card\n\nLast updated: November 2019\n\nThe model predicts text.", "2019-11-01", "\"Last updated\" in the text")]
    [InlineData("# Policy\n\nVersion 2.1, March 2024\n\nThis policy applies to all staff.", "2024-03-01", "version line in the text")]
    [InlineData("# Procedure\n\nEffective date: 12 February 2025\n\nSteps follow.", "2025-02-12", "\"Effective date\" in the text")]
    [InlineData("# Plan\n\nApproved on 2023-07-15 by the board.", "2023-07-15", "\"Approved on\" in the text")]
    [InlineData("# Plan\n\nDate: March 5, 2022\n\nOwner: AI lead.", "2022-03-05", "\"Date\" in the text")]
    public async Task Finds_the_date_a_document_states_about_itself(string text, string expected, string source)
    {
        var found = DocumentDates.Find(await ReadAsync("doc.md", text), Today);
        Assert.NotNull(found);
        Assert.Equal(DateOnly.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), found.Date);
        Assert.Equal(source, found.Source);
    }

    [Fact]
    public async Task The_latest_credible_date_wins_and_future_or_ancient_dates_are_ignored()
    {
        var text = "# Policy\n\nLast updated: 2 January 2024\n\nNext review date: 1 January 2027\n\nPublished: 1985-01-01\n\n" +
                   "## Revision history\n\n| Version | Date | Change |\n|---|---|---|\n| 1.0 | 2023-01-10 | First issue |\n| 1.1 | 2024-06-30 | Roles updated |\n| 2.0 | 2031-01-01 | Planned |\n";
        var found = DocumentDates.Find(await ReadAsync("policy.md", text), Today);
        Assert.Equal(new DateOnly(2024, 6, 30), found!.Date);
        Assert.Equal("revision history table", found.Source);
        Assert.Null(DocumentDates.Find(await ReadAsync("note.md", "# Note\n\nIn March 2023 the board met. Updated during 2024."), Today));
    }

    [Fact]
    public async Task Office_metadata_dates_count()
    {
        var found = DocumentDates.Find(await DocumentReader.CreateDefault().ReadAsync(TestDocuments.Docx(), "policy.docx", ExtractionLimits.Default, Ct), DateTimeOffset.UtcNow);
        // The test DOCX has no core-properties dates and no dated text: nothing is invented.
        Assert.Null(found);
        Assert.Equal([new StatedDate(new DateOnly(2021, 4, 5), "DOCX modification date")], DocumentDates.FromMetadata("DOCX", new DateTime(2021, 4, 5, 10, 0, 0, DateTimeKind.Utc), null));
    }

    [Fact]
    public async Task A_model_card_last_updated_in_2019_and_ingested_today_makes_its_entries_stale()
    {
        using var dir = new TempDir();
        using var aims = await LocalAims.OpenAsync(dir.Db, new AimsSettings { Mapping = new() { Mapper = MapperKinds.Lexical } }, Ct);
        var card = "# Model card: ticket triage classifier\n\nLast updated: November 2019\n\n## Intended use\n\nThe model routes customer support tickets to teams. " +
                   "It is intended for internal triage only and must not be used to make decisions about customers.\n\n## Evaluation\n\n" +
                   "Accuracy, precision and recall were measured on a held-out test set of 12,000 tickets; performance is reported per language and per product line.\n";
        var outcome = await aims.CreatePipeline().IngestAsync("model-card.md", Encoding.UTF8.GetBytes(card), Ct);
        Assert.Equal(new DateOnly(2019, 11, 1), outcome.Document!.StatedDate);
        Assert.Equal("\"Last updated\" in the text", outcome.Document.StatedDateSource);

        var report = await aims.Evidence.GetGapReportAsync(Ct);
        var evidenced = report.Entries.Where(e => e.PassageCount > 0 && !e.Entry.Container).ToArray();
        Assert.NotEmpty(evidenced);
        Assert.All(evidenced, e =>
        {
            Assert.Equal(GapStatus.Stale, e.Status);
            Assert.StartsWith("newest evidence dates from 2019-11-01, more than the review period of 365 days", e.Reason, StringComparison.Ordinal);
        });

        // The reviewer's effective date still overrides what the document says.
        await aims.Store.SetEffectiveDateAsync(outcome.Document.Id, DateOnly.FromDateTime(DateTime.UtcNow), "tester", Ct);
        report = await aims.Evidence.GetGapReportAsync(Ct);
        Assert.DoesNotContain(report.Entries, e => e.Status == GapStatus.Stale);
    }

    [Fact]
    public async Task Csv_rows_carry_their_row_number_and_identifying_value_in_every_chunk()
    {
        var longRisk = string.Join(' ', Enumerable.Repeat("The assistant may produce a wrong answer that staff rely on without checking the source document.", 40));
        var csv = "ID,Use case,Owner,Risks\nUC-1,Biomedical Citation Selector,Research office,Hallucinated citations\nUC-2,Grant triage assistant,Finance," + longRisk + "\n";
        var extracted = await ReadAsync("inventory.csv", csv);
        var passages = new Segmenter().Segment(extracted);
        var first = passages[0];
        Assert.Equal(2, first.RowStart);
        Assert.Equal("Biomedical Citation Selector", first.Headings[^1]);
        var grant = passages.Where(p => p.RowStart == 3).ToArray();
        Assert.True(grant.Length > 1, "the long row is split into chunks");
        Assert.All(grant, p => Assert.Equal("Grant triage assistant", p.Headings[^1]));
        Assert.Equal("inventory.csv, sheet 1, row 2, Biomedical Citation Selector", CitationText.Of("inventory.csv", first.Page, first.Headings, first.RowStart, first.RowEnd));
        Assert.Equal("policy.pdf, p. 3, \u00a7 Roles", CitationText.Of("policy.pdf", 3, ["Roles"]));
        Assert.Equal("a.xlsx, sheet 2, rows 4-6, X", CitationText.Of("a.xlsx", 2, ["X"], 4, 6));
    }

    [Fact]
    public async Task Xlsx_rows_keep_the_spreadsheet_row_numbers_and_sheet()
    {
        var extracted = await DocumentReader.CreateDefault().ReadAsync(TestDocuments.Xlsx(), "register.xlsx", ExtractionLimits.Default, Ct);
        var passages = new Segmenter().Segment(extracted);
        var done = passages.Single(p => p.Text.Contains("Impact assessment performed", StringComparison.Ordinal));
        Assert.Equal(3, done.RowStart); // row 2 is empty: numbers are the sheet's own
        Assert.Equal(1, done.Page);
        Assert.Equal("Impact assessment performed", done.Headings[^1]); // the "Control" column identifies the row
        var drift = passages.Single(p => p.Text.Contains("Model drift", StringComparison.Ordinal));
        Assert.Equal((2, 2), (drift.Page, drift.RowStart));
        Assert.Equal(["Risks", "Model drift"], drift.Headings);
    }

    [Fact]
    public void The_key_column_is_the_one_named_like_a_name_title_use_case_or_id()
    {
        Assert.Equal(1, CsvExtractor.KeyColumn(["Ref", "Use case", "Owner"]));
        Assert.Equal(2, CsvExtractor.KeyColumn(["Owner", "ID", "System name"]));
        Assert.Equal(0, CsvExtractor.KeyColumn(["Dataset", "Period", "Lawful basis"]));
        Assert.Equal("x", CsvExtractor.RowKey(["", "x"], 0));
        Assert.Null(CsvExtractor.RowKey(["", ""], 0));
    }
}
