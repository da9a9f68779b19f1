using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;
using A = DocumentFormat.OpenXml.Drawing;
using P = DocumentFormat.OpenXml.Presentation;
using S = DocumentFormat.OpenXml.Spreadsheet;
using W = DocumentFormat.OpenXml.Wordprocessing;

namespace Aims.Evidence.Tests.Extraction;

/// <summary>Builds small test documents of every format in code.</summary>
internal static class TestDocuments
{
    public static byte[] Pdf()
    {
        var builder = new PdfDocumentBuilder();
        var regular = builder.AddStandard14Font(Standard14Font.Helvetica);
        var bold = builder.AddStandard14Font(Standard14Font.HelveticaBold);
        for (var p = 1; p <= 2; p++)
        {
            var page = builder.AddPage(595, 842);
            page.AddText("Example Corp internal", 8, new(60, 810), regular);
            page.AddText(p == 1 ? "Risk Management Policy" : "Monitoring", 24, new(60, 740), bold);
            var y = 700.0;
            var lines = p == 1
                ? new[]
                {
                    "The organisation shall identify risks arising from the use of artificial",
                    "intelligence systems and record them in a register that is reviewed at",
                    "least once a year by the risk owner, who approves any treat-",
                    "ment plan before the system is deployed.",
                }
                : new[]
                {
                    "Performance of every deployed model is monitored continuously and",
                    "deviations are reported to the governance board within five days.",
                };
            foreach (var line in lines)
            {
                page.AddText(line, 11, new(60, y), regular);
                y -= 14;
            }

            page.AddText(p.ToString(System.Globalization.CultureInfo.InvariantCulture), 9, new(297, 30), regular);
        }

        return builder.Build();
    }

    /// <summary>A hand-written PDF whose /Encrypt dictionary needs a user password we do not have.</summary>
    public static byte[] EncryptedPdf()
    {
        var objects = new[]
        {
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
            "<< /Filter /Standard /V 1 /R 2 /O <" + new string('a', 64) + "> /U <" + new string('b', 64) + "> /P -4 >>",
        };
        var sb = new StringBuilder("%PDF-1.4\n");
        var offsets = new List<int>();
        for (var i = 0; i < objects.Length; i++)
        {
            offsets.Add(Encoding.ASCII.GetByteCount(sb.ToString()));
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"{i + 1} 0 obj\n{objects[i]}\nendobj\n");
        }

        var xref = Encoding.ASCII.GetByteCount(sb.ToString());
        sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"xref\n0 {objects.Length + 1}\n0000000000 65535 f \n");
        foreach (var offset in offsets)
        {
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"{offset:D10} 00000 n \n");
        }

        sb.Append(System.Globalization.CultureInfo.InvariantCulture,
            $"trailer\n<< /Size {objects.Length + 1} /Root 1 0 R /Encrypt 4 0 R /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>] >>\nstartxref\n{xref}\n%%EOF\n");
        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    public static byte[] Docx(string? documentXmlOverride = null)
    {
        using var stream = new MemoryStream();
        using (var doc = WordprocessingDocument.Create(stream, WordprocessingDocumentType.Document))
        {
            var main = doc.AddMainDocumentPart();
            var stylesPart = main.AddNewPart<StyleDefinitionsPart>();
            stylesPart.Styles = new W.Styles(
                Style("Title", "Title", null),
                Style("Heading1", "heading 1", 0),
                Style("Heading2", "heading 2", 1),
                Style("ListParagraph", "List Paragraph", null));
            main.Document = new W.Document(new W.Body(
                Para("AI Policy", "Title"),
                Para("Purpose", "Heading1"),
                Para("This policy sets out how AI systems are governed.", null),
                Para("Scope", "Heading2"),
                NumberedPara("All production models"),
                NumberedPara("All third-party AI services"),
                new W.Paragraph(new W.Run(new W.Picture(new DocumentFormat.OpenXml.Vml.Shape(new DocumentFormat.OpenXml.Vml.TextBox(
                    new W.TextBoxContent(new W.Paragraph(new W.Run(new W.Text("Boxed note"))))))))),
                new W.Table(
                    Row("Role", "Responsibility"),
                    Row("Risk owner", "Approves treatment plans"),
                    Row("Data steward", "Maintains data quality"))));
        }

        var bytes = stream.ToArray();
        return documentXmlOverride is null ? bytes : ReplaceEntry(bytes, "word/document.xml", documentXmlOverride);
    }

    private static W.Style Style(string id, string name, int? outline)
    {
        var style = new W.Style(new W.StyleName { Val = name }) { Type = W.StyleValues.Paragraph, StyleId = id };
        if (outline is not null)
        {
            style.Append(new W.StyleParagraphProperties(new W.OutlineLevel { Val = outline }));
        }

        return style;
    }

    private static W.Paragraph Para(string text, string? style)
    {
        var p = new W.Paragraph();
        if (style is not null)
        {
            p.Append(new W.ParagraphProperties(new W.ParagraphStyleId { Val = style }));
        }

        p.Append(new W.Run(new W.Text(text)));
        return p;
    }

    private static W.Paragraph NumberedPara(string text) =>
        new(new W.ParagraphProperties(
                new W.ParagraphStyleId { Val = "ListParagraph" },
                new W.NumberingProperties(new W.NumberingLevelReference { Val = 0 }, new W.NumberingId { Val = 1 })),
            new W.Run(new W.Text(text)));

    private static W.TableRow Row(params string[] cells) =>
        new(cells.Select(c => new W.TableCell(new W.Paragraph(new W.Run(new W.Text(c))))));

    public static byte[] ReplaceEntry(byte[] zip, string entryName, string content)
    {
        using var stream = new MemoryStream();
        stream.Write(zip);
        using (var archive = new System.IO.Compression.ZipArchive(stream, System.IO.Compression.ZipArchiveMode.Update, leaveOpen: true))
        {
            archive.GetEntry(entryName)!.Delete();
            var entry = archive.CreateEntry(entryName);
            using var writer = new StreamWriter(entry.Open(), new UTF8Encoding(false));
            writer.Write(content);
        }

        return stream.ToArray();
    }

    public static byte[] Xlsx()
    {
        using var stream = new MemoryStream();
        using (var doc = SpreadsheetDocument.Create(stream, SpreadsheetDocumentType.Workbook))
        {
            var wb = doc.AddWorkbookPart();
            wb.Workbook = new S.Workbook(new S.Sheets());
            var sst = wb.AddNewPart<SharedStringTablePart>();
            sst.SharedStringTable = new S.SharedStringTable(
                new S.SharedStringItem(new S.Text("Control")),
                new S.SharedStringItem(new S.Text("Status")),
                new S.SharedStringItem(new S.Text("Impact assessment performed")));
            AddSheet(wb, 1, "Controls",
                new S.Row(SharedCell("A1", 0), SharedCell("B1", 1)) { RowIndex = 1 },
                new S.Row() { RowIndex = 2 },
                new S.Row(SharedCell("A3", 2), InlineCell("B3", "Done")) { RowIndex = 3 });
            AddSheet(wb, 2, "Risks",
                new S.Row(InlineCell("A1", "Risk"), InlineCell("C1", "Owner")) { RowIndex = 1 },
                new S.Row(InlineCell("A2", "Model drift"), InlineCell("C2", "Data science lead")) { RowIndex = 2 });
        }

        return stream.ToArray();
    }

    private static void AddSheet(WorkbookPart wb, uint id, string name, params S.Row[] rows)
    {
        var ws = wb.AddNewPart<WorksheetPart>();
        ws.Worksheet = new S.Worksheet(new S.SheetData(rows));
        wb.Workbook.Sheets!.Append(new S.Sheet { Id = wb.GetIdOfPart(ws), SheetId = id, Name = name });
    }

    private static S.Cell SharedCell(string reference, int index) =>
        new(new S.CellValue(index.ToString(System.Globalization.CultureInfo.InvariantCulture))) { CellReference = reference, DataType = S.CellValues.SharedString };

    private static S.Cell InlineCell(string reference, string text) =>
        new(new S.InlineString(new S.Text(text))) { CellReference = reference, DataType = S.CellValues.InlineString };

    public static byte[] Pptx()
    {
        using var stream = new MemoryStream();
        using (var doc = PresentationDocument.Create(stream, PresentationDocumentType.Presentation))
        {
            var pres = doc.AddPresentationPart();
            pres.Presentation = new P.Presentation(new P.SlideIdList());
            AddSlide(pres, 256, "Governance overview", ["Board approves the AI policy", "Annual review"]);
            AddSlide(pres, 257, "Incident response", ["Incidents are logged within 24 hours"]);
        }

        return stream.ToArray();
    }

    private static void AddSlide(PresentationPart pres, uint id, string title, string[] bullets)
    {
        var slide = pres.AddNewPart<SlidePart>();
        slide.Slide = new P.Slide(new P.CommonSlideData(new P.ShapeTree(
            Shape(1, P.PlaceholderValues.Title, [title]),
            Shape(2, P.PlaceholderValues.Body, bullets))));
        pres.Presentation.SlideIdList!.Append(new P.SlideId { Id = id, RelationshipId = pres.GetIdOfPart(slide) });
    }

    private static P.Shape Shape(uint id, P.PlaceholderValues type, string[] paragraphs) =>
        new(
            new P.NonVisualShapeProperties(
                new P.NonVisualDrawingProperties { Id = id, Name = $"Shape {id}" },
                new P.NonVisualShapeDrawingProperties(),
                new P.ApplicationNonVisualDrawingProperties(new P.PlaceholderShape { Type = type })),
            new P.ShapeProperties(),
            new P.TextBody(new OpenXmlElement[] { new A.BodyProperties(), new A.ListStyle() }
                .Concat(paragraphs.Select(t => new A.Paragraph(new A.Run(new A.Text(t)))))));
}
