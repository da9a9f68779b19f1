using System.Text;
using Aims.Evidence.Core.Extraction;

namespace Aims.Evidence.Tests.Extraction;

public class ExtractorTests
{
    private static readonly DocumentReader Reader = DocumentReader.CreateDefault();

    internal static void AssertSpans(ExtractedDocument doc)
    {
        foreach (var block in doc.Blocks)
        {
            Assert.Equal(block.Text, doc.Text.Substring(block.Start, block.Length));
            Assert.InRange(block.Page, 1, Math.Max(1, doc.PageCount));
            if (block.Kind == BlockKind.Heading)
            {
                Assert.InRange(block.HeadingLevel, 1, 9);
            }
        }
    }

    private static async Task<ExtractedDocument> Read(byte[] bytes, string name)
    {
        var doc = await Reader.ReadAsync(bytes, name, ExtractionLimits.Default, TestContext.Current.CancellationToken);
        AssertSpans(doc);
        return doc;
    }

    private static Task<ExtractedDocument> Read(string text, string name) => Read(Encoding.UTF8.GetBytes(text), name);

    private static async Task<DocumentRejectedException> Rejected(byte[] bytes, string name, RejectionKind kind)
    {
        var ex = await Assert.ThrowsAsync<DocumentRejectedException>(() =>
            Reader.ReadAsync(bytes, name, ExtractionLimits.Default, TestContext.Current.CancellationToken));
        Assert.Equal(kind, ex.Kind);
        return ex;
    }

    [Fact]
    public async Task Pdf_has_pages_headings_joined_paragraphs_and_no_running_header()
    {
        var doc = await Read(TestDocuments.Pdf(), "policy.pdf");
        Assert.Equal(MediaTypes.Pdf, doc.MediaType);
        Assert.Equal(2, doc.PageCount);
        var headings = doc.Blocks.Where(b => b.Kind == BlockKind.Heading).ToList();
        Assert.Contains(headings, h => h.Text == "Risk Management Policy" && h.Page == 1 && h.HeadingLevel == 1);
        Assert.Contains(headings, h => h.Text == "Monitoring" && h.Page == 2);
        var body = Assert.Single(doc.Blocks, b => b.Text.StartsWith("The organisation shall", StringComparison.Ordinal));
        Assert.Equal(BlockKind.Paragraph, body.Kind);
        Assert.Contains("use of artificial intelligence systems", body.Text, StringComparison.Ordinal);
        Assert.Contains("any treatment plan", body.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(doc.Blocks, b => b.Text.Contains("Example Corp internal", StringComparison.Ordinal));
        Assert.DoesNotContain(doc.Blocks, b => b.Text is "1" or "2");
    }

    [Fact]
    public async Task Pdf_words_split_at_gaps_and_drawn_spaces_and_hyphens_follow_the_document()
    {
        var builder = new UglyToad.PdfPig.Writer.PdfDocumentBuilder();
        var font = builder.AddStandard14Font(UglyToad.PdfPig.Fonts.Standard14Fonts.Standard14Font.Helvetica);
        var page = builder.AddPage(595, 842);
        var y = 700.0;
        foreach (var line in new[]
                 {
                     "Every decision-making process that uses an AI system is documented in the",
                     "register, and each decision-",
                     "making step names an owner who keeps the infor-",
                     "mation current.",
                 })
        {
            page.AddText(line, 11, new(60, y), font);
            y -= 14;
        }

        // Words drawn one by one without space glyphs: the gap alone separates them; letters drawn apart by less
        // than a fifth of their size still form one word.
        var x = 60.0;
        foreach (var word in new[] { "Reviews", "happen", "yearly." })
        {
            var letters = page.AddText(word, 11, new(x, y), font);
            x = letters[^1].EndBaseLine.X + 4;
        }

        var over = page.AddText("Over", 11, new(60, y - 14), font);
        page.AddText("sight", 11, new(over[^1].EndBaseLine.X + 0.1, y - 14), font);
        var doc = await Read(builder.Build(), "words.pdf");

        var text = string.Join(" | ", doc.Blocks.Select(b => b.Text));
        Assert.Contains("each decision-making step", text, StringComparison.Ordinal); // the document writes "decision-making"
        Assert.Contains("the information current.", text, StringComparison.Ordinal); // a split word is rejoined
        Assert.Contains("Reviews happen yearly.", text, StringComparison.Ordinal);
        Assert.Contains("Oversight", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Text_lines_drop_split_hyphens_but_keep_them_after_capitals()
    {
        var doc = await Read("The AI-\nbased triage tool keeps infor-\nmation for a short time and is re\u00AD\nviewed yearly.\n", "notes.txt");
        Assert.Equal("The AI-based triage tool keeps information for a short time and is reviewed yearly.", Assert.Single(doc.Blocks).Text);
    }

    [Fact]
    public async Task Pdf_bad_inputs_are_invalid()
    {
        var pdf = TestDocuments.Pdf();
        var truncated = await Rejected(pdf[..(pdf.Length / 2)], "t.pdf", RejectionKind.Invalid);
        Assert.Contains("truncated", truncated.Message, StringComparison.OrdinalIgnoreCase);
        var corrupt = Encoding.ASCII.GetBytes("%PDF-1.7\nthis is not a pdf body at all\n%%EOF\n");
        await Rejected(corrupt, "c.pdf", RejectionKind.Invalid);
        var encrypted = await Rejected(TestDocuments.EncryptedPdf(), "e.pdf", RejectionKind.Invalid);
        Assert.Contains("password-protected", encrypted.Message, StringComparison.Ordinal);
        var limited = await Assert.ThrowsAsync<DocumentRejectedException>(() =>
            Reader.ReadAsync(pdf, "p.pdf", new ExtractionLimits { MaxPages = 1 }, TestContext.Current.CancellationToken));
        Assert.Equal(RejectionKind.Invalid, limited.Kind);
    }

    [Fact]
    public async Task Pdf_without_text_is_rejected_as_scanned()
    {
        var builder = new UglyToad.PdfPig.Writer.PdfDocumentBuilder();
        builder.AddPage(595, 842).DrawRectangle(new(10, 10), 100, 100);
        var ex = await Rejected(builder.Build(), "scan.pdf", RejectionKind.Invalid);
        Assert.Contains("no text layer", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Docx_headings_lists_and_tables()
    {
        var doc = await Read(TestDocuments.Docx(), "policy.docx");
        Assert.Equal(MediaTypes.Docx, doc.MediaType);
        Assert.Equal("AI Policy", doc.Title);
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.Heading, Text: "Purpose", HeadingLevel: 1 });
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.Heading, Text: "Scope", HeadingLevel: 2 });
        Assert.Equal(2, doc.Blocks.Count(b => b.Kind == BlockKind.ListItem));
        Assert.Single(doc.Blocks, b => b is { Kind: BlockKind.Paragraph, Text: "Boxed note" });
        var row = Assert.Single(doc.Blocks, b => b.Text.StartsWith("Risk owner", StringComparison.Ordinal));
        Assert.Equal(BlockKind.TableRow, row.Kind);
        Assert.Equal(["Role", "Responsibility"], row.TableHeader!);
    }

    [Fact]
    public async Task Docx_bad_inputs()
    {
        var ex = await Rejected(Encoding.ASCII.GetBytes("just some text"), "x.docx", RejectionKind.Invalid);
        Assert.Equal(MediaTypes.PlainText, MediaTypeSniffer.Sniff(Encoding.ASCII.GetBytes("just some text"), "readme"));
        _ = ex;
        var notZip = await Rejected([(byte)'P', (byte)'K', 3, 4, 1, 2, 3, 4, 5, 6, 7, 8], "y.docx", RejectionKind.Invalid);
        Assert.Contains("not a valid DOCX (not a zip package)", notZip.Message, StringComparison.Ordinal);

        const string dtd = """
            <?xml version="1.0"?>
            <!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
            <w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p></w:body></w:document>
            """;
        var bomb = await Rejected(TestDocuments.Docx(dtd), "dtd.docx", RejectionKind.Invalid);
        Assert.DoesNotContain("lollol", bomb.Message, StringComparison.Ordinal);
        Assert.Contains("DTD", bomb.Message, StringComparison.Ordinal); // the Open XML SDK refuses DTDs outright
    }

    [Fact]
    public async Task Docx_zip_bomb_is_rejected_before_parsing()
    {
        var bytes = TestDocuments.ReplaceEntry(TestDocuments.Docx(), "word/document.xml", new string(' ', 20 * 1024 * 1024));
        var ex = await Rejected(bytes, "bomb.docx", RejectionKind.Invalid);
        Assert.Contains("zip bomb", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Xlsx_sheets_are_pages_with_header_context()
    {
        var doc = await Read(TestDocuments.Xlsx(), "book.xlsx");
        Assert.Equal(2, doc.PageCount);
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.Heading, Text: "Controls", Page: 1 });
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.Heading, Text: "Risks", Page: 2 });
        var row = Assert.Single(doc.Blocks, b => b.Text == "Control: Impact assessment performed; Status: Done");
        Assert.Equal(["Control", "Status"], row.TableHeader!);
        var risk = Assert.Single(doc.Blocks, b => b.Text.StartsWith("Risk: Model drift", StringComparison.Ordinal));
        Assert.Equal("Risk: Model drift; Owner: Data science lead", risk.Text);
        Assert.Equal(2, risk.Page);
    }

    [Fact]
    public async Task Pptx_slides_are_pages_with_titles()
    {
        var doc = await Read(TestDocuments.Pptx(), "deck.pptx");
        Assert.Equal(2, doc.PageCount);
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.Heading, Text: "Governance overview", Page: 1 });
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.ListItem, Text: "Annual review", Page: 1 });
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.Heading, Text: "Incident response", Page: 2 });
        Assert.Equal("Governance overview", doc.Title);
    }

    [Fact]
    public async Task Html_drops_noise_and_keeps_structure()
    {
        const string html = """
            <!DOCTYPE html><html><head><title>Data policy</title><style>p{color:red}</style></head>
            <body><nav><a href="/">Home</a> | <a href="/about">About</a></nav><header>Site banner</header>
            <script>var tracking = 1;</script><noscript>Enable JS</noscript>
            <h1>Data policy</h1><p>We <b>minimise</b> personal data.</p>
            <h3>Retention</h3><ul><li>Logs are kept 30 days</li><li>Backups 90 days<ul><li>Encrypted</li></ul></li></ul>
            <table><tr><th>Data</th><th>Period</th></tr><tr><td>Logs</td><td>30 days</td></tr></table>
            <aside>Related posts</aside><footer>Copyright</footer></body></html>
            """;
        var doc = await Read(html, "page.html");
        Assert.Equal("Data policy", doc.Title);
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.Heading, Text: "Data policy", HeadingLevel: 1 });
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.Heading, Text: "Retention", HeadingLevel: 3 });
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.Paragraph, Text: "We minimise personal data." });
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.ListItem, Text: "Backups 90 days" });
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.ListItem, Text: "Encrypted" });
        var row = Assert.Single(doc.Blocks, b => b.Text == "Logs | 30 days");
        Assert.Equal(["Data", "Period"], row.TableHeader!);
        foreach (var noise in new[] { "Home", "banner", "tracking", "Enable JS", "Related", "Copyright", "color" })
        {
            Assert.DoesNotContain(noise, doc.Text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Markdown_is_rendered_to_visible_text()
    {
        const string md = """
            ---
            title: Model Card for Tiny
            license: mit
            ---
            # Tiny model

            The model is **trained** on [public data](https://example.org/data) and uses `fp16` weights.
            Source: https://example.org/source and <https://example.org/auto>
            ![diagram](img/arch.png)

            ## Limitations

            - It *may* produce biased output
            - It is <span>not</span> for medical use

            ```python
            import tiny
            ```

            | Metric | Value |
            |--------|-------|
            | Accuracy | 91% |
            """;
        var doc = await Read(md, "card.md");
        Assert.Equal(MediaTypes.Markdown, doc.MediaType);
        Assert.Equal("Model Card for Tiny", doc.Title);
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.Heading, Text: "Tiny model", HeadingLevel: 1 });
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.Heading, Text: "Limitations", HeadingLevel: 2 });
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.Paragraph, Text: "The model is trained on public data and uses fp16 weights. Source: and" });
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.ListItem, Text: "It may produce biased output" });
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.ListItem, Text: "It is not for medical use" });
        var row = Assert.Single(doc.Blocks, b => b.Text == "Accuracy | 91%");
        Assert.Equal(["Metric", "Value"], row.TableHeader!);
        foreach (var noise in new[] { "https://", "arch.png", "import tiny", "**", "license", "<span>", "#" })
        {
            Assert.DoesNotContain(noise, doc.Text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Mdx_drops_imports_jsx_and_expressions()
    {
        const string mdx = """
            import { Callout } from '../components/Callout'
            import Chart from './chart.js'
            export const meta = { author: 'x' }

            # Incident roundup

            <Callout type="info" data={{ a: 1 }}>
              Several incidents involved deepfakes.
            </Callout>

            Reported in {props.month} by the editors.

            <Chart values={[1, 2, 3]} />
            """;
        var doc = await Read(mdx, "roundup.mdx");
        Assert.Equal(MediaTypes.Mdx, doc.MediaType);
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.Heading, Text: "Incident roundup" });
        Assert.Contains(doc.Blocks, b => b.Text == "Several incidents involved deepfakes.");
        Assert.Contains(doc.Blocks, b => b.Text == "Reported in by the editors.");
        foreach (var noise in new[] { "import", "export", "Callout", "Chart", "props", "{", "<" })
        {
            Assert.DoesNotContain(noise, doc.Text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Rst_headings_lists_directives_and_inline_markup()
    {
        const string rst = """
            ==============
            Test procedure
            ==============

            Overview
            ========

            This is **important** and *emphasised*, see `the guide <https://example.org>`_ and :ref:`evaluation`.
            Use ``run.sh`` to start.

            Steps
            -----

            - Collect the data
              from every site
            #. Evaluate the model

            .. note::

               Results are reviewed by a clinician.

            .. code-block:: python

               print("hidden")

            .. image:: chart.png

            =====  ========
            Metric Target
            =====  ========
            AUROC  0.80
            =====  ========

            Results
            =======

            Done.
            """;
        var doc = await Read(rst, "proc.rst");
        Assert.Equal(MediaTypes.ReStructuredText, doc.MediaType);
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.Heading, Text: "Test procedure", HeadingLevel: 1 });
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.Heading, Text: "Overview", HeadingLevel: 2 });
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.Heading, Text: "Steps", HeadingLevel: 3 });
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.Heading, Text: "Results", HeadingLevel: 2 });
        Assert.Contains(doc.Blocks, b => b.Text == "This is important and emphasised, see the guide and evaluation. Use run.sh to start.");
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.ListItem, Text: "Collect the data from every site" });
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.ListItem, Text: "Evaluate the model" });
        Assert.Contains(doc.Blocks, b => b.Text == "Results are reviewed by a clinician.");
        var row = Assert.Single(doc.Blocks, b => b.Text == "AUROC | 0.80");
        Assert.Equal(["Metric", "Target"], row.TableHeader!);
        Assert.DoesNotContain("hidden", doc.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("chart.png", doc.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plain_text_paragraphs_and_headings()
    {
        var doc = await Read("INTRODUCTION\n\nThis document describes\nthe process.\n\n2.1 Data handling\n\nData is encrypted.\n", "notes.txt");
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.Heading, Text: "INTRODUCTION" });
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.Heading, Text: "2.1 Data handling", HeadingLevel: 2 });
        Assert.Contains(doc.Blocks, b => b is { Kind: BlockKind.Paragraph, Text: "This document describes the process." });
    }

    [Fact]
    public async Task Csv_in_cp1252_with_quotes_and_newlines()
    {
        var text = "Name;Description;Agency\r\n\"Résumé screener\";\"Ranks applicants, flags gaps\nsecond line\";Café Dept\r\n;;\r\nOther;Plain;X\r\n";
        var bytes = CodePages().GetBytes(text);
        var doc = await Read(bytes, "inventory.csv");
        Assert.Equal(2, doc.Blocks.Count);
        var first = doc.Blocks[0];
        Assert.Equal(BlockKind.TableRow, first.Kind);
        Assert.Equal("Name: Résumé screener; Description: Ranks applicants, flags gaps second line; Agency: Café Dept", first.Text);
        Assert.Equal(["Name", "Description", "Agency"], first.TableHeader!);
        Assert.Equal(',', CsvExtractor.SniffDelimiter("a,b,c\n1,2,3\n"));
        Assert.Equal('\t', CsvExtractor.SniffDelimiter("a\tb\tc\n1\t2\t3\n"));
    }

    private static Encoding CodePages()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        return Encoding.GetEncoding(1252);
    }

    [Fact]
    public async Task Yaml_and_json_key_paths()
    {
        const string yaml = """
            id: AML.CS0003
            name: Bypassing a malware scanner
            procedure:
              - tactic: reconnaissance
                description: The researchers studied public documentation of the product and its scoring model in order to understand how it works.
            references:
              - title: Paper
                url: https://example.org
            """;
        var y = await Read(yaml, "case.yaml");
        Assert.Equal(MediaTypes.Yaml, y.MediaType);
        Assert.Equal("Bypassing a malware scanner", y.Title);
        Assert.Contains(y.Blocks, b => b is { Kind: BlockKind.Paragraph, Text: "id: AML.CS0003" });
        Assert.Contains(y.Blocks, b => b is { Kind: BlockKind.Heading, Text: "procedure > description", HeadingLevel: 2 });
        Assert.Contains(y.Blocks, b => b.Kind == BlockKind.Paragraph && b.Text.StartsWith("The researchers studied", StringComparison.Ordinal));

        const string json = """{"policy": {"name": "Access", "rules": ["MFA required", "Least privilege"]}}""";
        var j = await Read(json, "policy.json");
        Assert.Equal(MediaTypes.Json, j.MediaType);
        Assert.Contains(j.Blocks, b => b is { Kind: BlockKind.Heading, Text: "policy", HeadingLevel: 1 });
        Assert.Contains(j.Blocks, b => b is { Kind: BlockKind.Heading, Text: "policy > rules", HeadingLevel: 2 });
        Assert.Contains(j.Blocks, b => b is { Kind: BlockKind.ListItem, Text: "MFA required" });
        Assert.Contains(j.Blocks, b => b is { Kind: BlockKind.Paragraph, Text: "name: Access" });

        Assert.Equal(MediaTypes.Json, MediaTypeSniffer.Sniff(Encoding.UTF8.GetBytes(json), "noext"));
    }

    [Fact]
    public async Task Sniffing_and_bad_inputs()
    {
        var empty = await Rejected([], "a.md", RejectionKind.Invalid);
        Assert.Equal("empty file", empty.Message);
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        await Rejected(png, "image.png", RejectionKind.Unsupported);
        await Rejected(png, "renamed.md", RejectionKind.Unsupported);
        var binary = await Rejected([0x01, 0x02, 0x00, 0x41, 0x42, 0x00, 0x03, 0x04, 0x05], "data.md", RejectionKind.Unsupported);
        Assert.Contains("binary", binary.Message, StringComparison.Ordinal);
        var invalidUtf8 = await Rejected([0x48, 0x69, 0x20, 0xC3, 0x28, 0x81, 0x8D, 0x20, 0x6F, 0x6B], "bad.txt", RejectionKind.Invalid);
        Assert.Equal("not valid UTF-8 and not recognisable as Windows-1252 text", invalidUtf8.Message);
        var otherZip = await Rejected(Zip("notes/readme.txt"), "archive.zip", RejectionKind.Unsupported);
        Assert.Contains("zip", otherZip.Message, StringComparison.Ordinal);

        Assert.Equal(MediaTypes.Docx, MediaTypeSniffer.Sniff(TestDocuments.Docx(), "no-extension"));
        Assert.Equal(MediaTypes.Xlsx, MediaTypeSniffer.Sniff(TestDocuments.Xlsx(), "book.bin"));
        Assert.Equal(MediaTypes.Pptx, MediaTypeSniffer.Sniff(TestDocuments.Pptx(), "deck"));
        Assert.Equal(MediaTypes.Pdf, MediaTypeSniffer.Sniff(TestDocuments.Pdf(), "file.txt"));
        Assert.Equal(MediaTypes.Html, MediaTypeSniffer.Sniff(Encoding.UTF8.GetBytes("<!doctype html><p>x</p>"), "page.txt"));
        Assert.Equal(MediaTypes.PlainText, MediaTypeSniffer.Sniff(Encoding.UTF8.GetBytes("hello"), "notes.log"));
        Assert.Equal("Ünïcode", TextDecoding.Decode([0xFF, 0xFE, .. Encoding.Unicode.GetBytes("Ünïcode")]));
        Assert.Equal("Ünïcode", TextDecoding.Decode([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("Ünïcode")]));

        var big = await Assert.ThrowsAsync<DocumentRejectedException>(() =>
            Reader.ReadAsync(new byte[100], "x.txt", new ExtractionLimits { MaxFileBytes = 10 }, TestContext.Current.CancellationToken));
        Assert.Equal(RejectionKind.Invalid, big.Kind);
    }

    [Fact]
    public async Task Pathological_nesting_is_read_or_rejected_without_crashing()
    {
        var html = string.Concat(Enumerable.Repeat("<div>", 20_000)) + "deep text" + string.Concat(Enumerable.Repeat("</div>", 20_000));
        var doc = await Read("<!doctype html><html><body>" + html + "</body></html>", "deep.html");
        Assert.Contains("deep text", doc.Text, StringComparison.Ordinal);

        var md = string.Concat(Enumerable.Repeat("> ", 5_000)) + "quoted\n\n" + string.Concat(Enumerable.Repeat("- ", 2_000)) + "item\n";
        await ReadOrReject(Encoding.UTF8.GetBytes(md), "deep.md");
        await ReadOrReject(Encoding.UTF8.GetBytes(new string('[', 100_000) + new string(']', 100_000)), "deep.yaml");
        await ReadOrReject(Encoding.UTF8.GetBytes(new string('[', 100_000) + new string(']', 100_000)), "deep.json");
        const string laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
        await Rejected(Encoding.UTF8.GetBytes(laughs), "laughs.yaml", RejectionKind.Invalid);
    }

    [Fact]
    public async Task Damaged_files_never_throw_anything_but_rejections()
    {
        var random = new Random(42);
        var samples = new (byte[] Bytes, string Name)[]
        {
            (TestDocuments.Pdf(), "a.pdf"), (TestDocuments.Docx(), "a.docx"), (TestDocuments.Xlsx(), "a.xlsx"), (TestDocuments.Pptx(), "a.pptx"),
        };
        foreach (var (bytes, name) in samples)
        {
            foreach (var cut in new[] { 1, 10, bytes.Length / 3, bytes.Length * 2 / 3, bytes.Length - 5 })
            {
                await ReadOrReject(bytes[..cut], name);
            }

            for (var i = 0; i < 5; i++)
            {
                var copy = (byte[])bytes.Clone();
                for (var k = 0; k < 20; k++)
                {
                    copy[random.Next(copy.Length)] = (byte)random.Next(256);
                }

                await ReadOrReject(copy, name);
            }
        }
    }

    private static async Task ReadOrReject(byte[] bytes, string name)
    {
        try
        {
            await Read(bytes, name);
        }
        catch (DocumentRejectedException ex)
        {
            Assert.False(string.IsNullOrWhiteSpace(ex.Message));
        }
    }

    private static byte[] Zip(string entryName)
    {
        using var stream = new MemoryStream();
        using (var archive = new System.IO.Compression.ZipArchive(stream, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            using var writer = new StreamWriter(archive.CreateEntry(entryName).Open());
            writer.Write("hello");
        }

        return stream.ToArray();
    }
}
