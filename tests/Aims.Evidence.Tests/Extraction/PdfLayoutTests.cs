using Aims.Evidence.Core.Extraction;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

namespace Aims.Evidence.Tests.Extraction;

/// <summary>Lines, blocks and reading order of PdfExtractor's own layout analysis, on small PDFs built here.</summary>
public sealed class PdfLayoutTests
{
    private static readonly string[] LeftColumn =
    [
        "The provider keeps a register of every model",
        "in production, with the owner, the purpose",
        "and the data sources of each one, and the",
        "register is reviewed before each release.",
    ];

    private static readonly string[] RightColumn =
    [
        "Incidents are reported to the board within",
        "five working days, and each report names the",
        "affected users, the cause and the corrective",
        "action that the owner has agreed to take.",
    ];

    private static async Task<IReadOnlyList<LayoutBlock>> Blocks(byte[] pdf)
    {
        var doc = await new PdfExtractor().ExtractAsync(pdf, new ExtractionContext("layout.pdf", MediaTypes.Pdf, ExtractionLimits.Default),
            TestContext.Current.CancellationToken);
        return doc.Blocks;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Two_columns_are_two_paragraphs_left_then_right_whatever_the_drawing_order(bool rowByRow)
    {
        var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        var page = builder.AddPage(595, 842);
        if (rowByRow)
        {
            // Some producers draw a two-column page row by row across both columns.
            for (var i = 0; i < LeftColumn.Length; i++)
            {
                page.AddText(LeftColumn[i], 10, new(50, 700 - (12 * i)), font);
                page.AddText(RightColumn[i], 10, new(320, 700 - (12 * i)), font);
            }
        }
        else
        {
            for (var i = 0; i < LeftColumn.Length; i++)
            {
                page.AddText(LeftColumn[i], 10, new(50, 700 - (12 * i)), font);
            }

            for (var i = 0; i < RightColumn.Length; i++)
            {
                page.AddText(RightColumn[i], 10, new(320, 700 - (12 * i)), font);
            }
        }

        var blocks = await Blocks(builder.Build());

        Assert.Equal([string.Join(' ', LeftColumn), string.Join(' ', RightColumn)], blocks.Select(b => b.Text));
        Assert.All(blocks, b => Assert.Equal(BlockKind.Paragraph, b.Kind));
    }

    [Fact]
    public async Task A_superscript_stays_in_its_line_and_does_not_break_the_paragraph()
    {
        var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        var page = builder.AddPage(595, 842);
        var head = page.AddText("Models are retrained every quarter", 11, new(60, 700), font);
        var mark = page.AddText("2", 7, new(head[^1].EndBaseLine.X + 0.5, 704), font);
        page.AddText("and the results are logged", 11, new(mark[^1].EndBaseLine.X + 3, 700), font);
        page.AddText("by the operations team of the provider.", 11, new(60, 686), font);
        page.AddText("Other text in a separate paragraph follows here.", 11, new(60, 650), font);

        var blocks = await Blocks(builder.Build());

        Assert.Equal(
            ["Models are retrained every quarter 2 and the results are logged by the operations team of the provider.", "Other text in a separate paragraph follows here."],
            blocks.Select(b => b.Text));
    }

    /// <summary>Draws <paramref name="pieces"/> left to right without space glyphs, each <paramref name="gapsEm"/>[i] ems after the previous one's advance.</summary>
    private static void DrawPieces(PdfPageBuilder page, PdfDocumentBuilder.AddedFont font, double size, double y, string[] pieces, double[] gapsEm)
    {
        var x = 60.0;
        for (var i = 0; i < pieces.Length; i++)
        {
            var letters = page.AddText(pieces[i], size, new(x, y), font);
            x = letters[^1].EndBaseLine.X + (i < gapsEm.Length ? gapsEm[i] * size : 0);
        }
    }

    [Fact]
    public async Task Typeset_words_without_space_glyphs_are_split_at_gaps_narrower_than_a_fifth_of_an_em()
    {
        // TeX-like output: no space glyphs, justified word gaps of 0.14 to 0.19 em (the old cut was 0.2 em).
        var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        var page = builder.AddPage(595, 842);
        string[] words = ["The", "goals", "of", "the", "audit", "were", "agreed", "in", "advance."];
        DrawPieces(page, font, 9, 700, words, [0.19, 0.14, 0.18, 0.16, 0.19, 0.15, 0.17, 0.19]);

        var blocks = await Blocks(builder.Build());

        Assert.Equal(["The goals of the audit were agreed in advance."], blocks.Select(b => b.Text));
    }

    [Fact]
    public async Task Letter_spaced_text_keeps_its_words_and_a_justified_hyphen_keeps_its_compound()
    {
        var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        var page = builder.AddPage(595, 842);

        // Tracking of 0.15 em between letters, 0.45 em between words: the usual letter gap moves the cut up.
        var letters = "RISK REGISTER".ToCharArray();
        var pieces = letters.Where(c => c != ' ').Select(c => c.ToString()).ToArray();
        var gaps = new List<double>();
        for (var i = 0; i < letters.Length - 1; i++)
        {
            if (letters[i] == ' ')
            {
                continue;
            }

            gaps.Add(letters[i + 1] == ' ' ? 0.45 : 0.15);
        }

        DrawPieces(page, font, 14, 720, pieces, [.. gaps]);

        // A generator that justifies at hyphens too: 0.15 em after "risk-" is slack, not a word break.
        DrawPieces(page, font, 10, 650, ["A", "risk-", "based", "approach", "is", "used."], [0.3, 0.15, 0.3, 0.3, 0.3]);

        var blocks = await Blocks(builder.Build());

        Assert.Equal(["RISK REGISTER", "A risk-based approach is used."], blocks.Select(b => b.Text));
    }

    [Fact]
    public async Task A_heading_then_its_paragraph()
    {
        var builder = new PdfDocumentBuilder();
        var regular = builder.AddStandard14Font(Standard14Font.Helvetica);
        var bold = builder.AddStandard14Font(Standard14Font.HelveticaBold);
        var page = builder.AddPage(595, 842);
        page.AddText("Data Governance", 16, new(60, 720), bold);
        var y = 696.0;
        foreach (var line in new[]
                 {
                     "Training data is documented with its origin, licence and the",
                     "collection date, and any personal data in it is minimised",
                     "before the data set is approved for use.",
                 })
        {
            page.AddText(line, 11, new(60, y), regular);
            y -= 14;
        }

        var blocks = await Blocks(builder.Build());

        Assert.Equal(2, blocks.Count);
        Assert.Equal((BlockKind.Heading, "Data Governance"), (blocks[0].Kind, blocks[0].Text));
        Assert.Equal(BlockKind.Paragraph, blocks[1].Kind);
        Assert.Equal("Training data is documented with its origin, licence and the collection date, and any personal data in it is " +
                     "minimised before the data set is approved for use.", blocks[1].Text);
    }

    [Fact]
    public async Task A_page_drawn_out_of_order_reads_top_to_bottom_left_to_right()
    {
        var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        var page = builder.AddPage(595, 842);

        // The last line first, then the middle line word by word from right to left, then the first line.
        page.AddText("monitoring plan of the system.", 11, new(60, 672), font);
        var words = "each change is checked against the".Split(' ');
        var space = page.MeasureText(" ", 11, new PdfPoint(0, 0), font)[0].Width;
        var positions = new List<double>();
        var x = 60.0;
        foreach (var word in words)
        {
            positions.Add(x);
            x = page.MeasureText(word, 11, new PdfPoint(x, 686), font)[^1].EndBaseLine.X + space;
        }

        for (var i = words.Length - 1; i >= 0; i--)
        {
            page.AddText(words[i], 11, new(positions[i], 686), font);
        }

        page.AddText("The risk owner makes sure that", 11, new(60, 700), font);

        var blocks = await Blocks(builder.Build());

        Assert.Equal("The risk owner makes sure that each change is checked against the monitoring plan of the system.", Assert.Single(blocks).Text);
    }
}
