using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Segmentation;

namespace Aims.Evidence.Tests.Pipeline;

public class SegmenterTests
{
    private static ExtractedDocument Sample()
    {
        var b = new LayoutBuilder();
        b.Heading("Policy", 1);
        b.Paragraph("Short intro.");
        b.Heading("Scope", 2);
        for (var i = 0; i < 12; i++)
        {
            b.Paragraph(string.Join(' ', Enumerable.Repeat($"word{i}", 30)) + ".");
        }

        b.Heading("Roles", 2);
        b.ListItem("The board approves the policy.");
        b.ListItem("Model owners maintain model documentation.");
        b.Heading("Annex", 1);
        b.TableRow("System A | Credit | Production", ["System", "Purpose", "Stage"]);
        b.Paragraph(string.Join(' ', Enumerable.Range(0, 700).Select(i => i % 20 == 19 ? $"w{i}." : $"w{i}")));
        return b.Build(MediaTypes.Markdown);
    }

    [Fact]
    public void Passages_respect_word_bounds_and_never_cross_headings()
    {
        var doc = Sample();
        var passages = new Segmenter().Segment(doc);
        Assert.All(passages, p => Assert.InRange(p.WordCount, 1, 300));
        var headingStarts = doc.Blocks.Where(b => b.Kind == BlockKind.Heading).Select(b => b.Start).ToArray();
        Assert.All(passages, p => Assert.DoesNotContain(headingStarts, h => h > p.Start && h < p.Start + p.Length));
        Assert.Equal(Enumerable.Range(0, passages.Count), passages.Select(p => p.Ordinal));
    }

    [Fact]
    public void Passages_keep_heading_paths_and_merge_small_blocks_under_one_heading()
    {
        var passages = new Segmenter().Segment(Sample());
        var roles = Assert.Single(passages, p => p.Headings.SequenceEqual(["Policy", "Roles"]));
        Assert.Contains("board approves", roles.Text, StringComparison.Ordinal);
        Assert.Contains("Model owners", roles.Text, StringComparison.Ordinal);
        Assert.Equal(BlockKind.ListItem, roles.Kind);
        var scope = passages.Where(p => p.Headings.SequenceEqual(["Policy", "Scope"])).ToArray();
        Assert.True(scope.Length >= 2, "360 words of paragraphs become more than one passage");
        Assert.All(scope, p => Assert.InRange(p.WordCount, 40, 300));
    }

    [Fact]
    public void Table_rows_become_passages_with_their_header_and_long_blocks_are_split()
    {
        var passages = new Segmenter().Segment(Sample());
        var row = Assert.Single(passages, p => p.Kind == BlockKind.TableRow);
        Assert.StartsWith("[System | Purpose | Stage]", row.Text, StringComparison.Ordinal);
        Assert.Equal(["Annex"], row.Headings);
        var longParts = passages.Where(p => p.Headings.SequenceEqual(["Annex"]) && p.Kind == BlockKind.Paragraph).ToArray();
        Assert.Equal(3, longParts.Length);
        Assert.Equal(700, longParts.Sum(p => p.WordCount));
    }

    [Fact]
    [Trait(Tiers.Name, Tiers.Integration)]
    public async Task Corpus_passages_satisfy_the_invariants()
    {
        var dir = TestPaths.RequireCorpus();
        var reader = DocumentReader.CreateDefault();
        foreach (var file in Directory.GetFiles(dir))
        {
            var doc = await reader.ReadAsync(await File.ReadAllBytesAsync(file, TestContext.Current.CancellationToken), Path.GetFileName(file), ExtractionLimits.Default, TestContext.Current.CancellationToken);
            var passages = new Segmenter().Segment(doc);
            Assert.NotEmpty(passages);
            Assert.All(passages, p => Assert.InRange(p.WordCount, 1, 300));
            Assert.All(passages, p => Assert.InRange(p.Page, 1, doc.PageCount));
            var headingStarts = doc.Blocks.Where(b => b.Kind == BlockKind.Heading).Select(b => b.Start).ToHashSet();
            Assert.All(passages, p => Assert.DoesNotContain(headingStarts, h => h > p.Start && h < p.Start + p.Length));
        }
    }
}

public class SegmenterSpanTests
{
    [Fact]
    public void Chunks_of_a_split_block_get_their_own_spans_in_the_text()
    {
        var b = new LayoutBuilder();
        b.Heading("Long", 1);
        b.Paragraph(string.Join(' ', Enumerable.Range(0, 700).Select(i => i % 20 == 19 ? $"w{i}." : $"w{i}")));
        var doc = b.Build(MediaTypes.Markdown);
        var chunks = new Segmenter().Segment(doc);
        Assert.True(chunks.Count >= 3);
        for (var i = 0; i < chunks.Count; i++)
        {
            // Each chunk's span holds exactly its text, and the spans follow each other without overlap.
            Assert.Equal(chunks[i].Text, doc.Text.Substring(chunks[i].Start, chunks[i].Length));
            if (i > 0)
            {
                Assert.True(chunks[i].Start >= chunks[i - 1].Start + chunks[i - 1].Length);
            }
        }
    }
}
