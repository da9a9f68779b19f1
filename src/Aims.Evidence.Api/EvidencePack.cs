using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Gaps;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Services;
using Aims.Evidence.Core.Storage;

namespace Aims.Evidence.Api;

/// <summary>What one evidence pack holds.</summary>
public sealed record EvidencePackSummary(int Entries, int CitedPassages, int Documents);

/// <summary>
/// An auditor's evidence pack: one ZIP archive with an offline index page (plain HTML, inline CSS, no scripts), the
/// draft SoA, the gap report, the documents, the AI-system inventory, and one page per clause or control with every passage mapped to it (its
/// document, version, location, mapping probability, polarity and review decision). Every link in the pages points
/// to a file of the archive and, for a citation, to the passage's anchor (<c>entries/ID.html#p-PASSAGE</c>).
/// </summary>
/// <remarks>
/// The content is read before the first byte is written (<see cref="LoadAsync"/>), so a store failure is an error
/// response rather than a truncated archive. <see cref="WriteAsync"/> then writes the entries one after the other to the
/// caller's stream (which need not be seekable, e.g. an HTTP response body) with asynchronous writes only; the archive
/// is never held in memory whole. The evidence links are the gap snapshot the SoA and gap report use, which the
/// service already caches per store version.
/// </remarks>
public sealed class EvidencePackWriter
{
    private readonly GapSnapshot _snapshot;
    private readonly IReadOnlyList<SoaRow> _soa;
    private readonly IReadOnlyList<DocumentRecord> _documents;
    private readonly string _catalogVersion;
    private readonly ILookup<string, EvidenceLink> _byEntry;
    private readonly HashSet<string> _entryIds;
    private readonly IReadOnlyList<AiSystemView> _systems;

    private EvidencePackWriter(GapSnapshot snapshot, IReadOnlyList<DocumentRecord> documents, string catalogVersion, IReadOnlyList<AiSystemView> systems)
    {
        _systems = systems;
        _snapshot = snapshot;
        _soa = AimsEvidenceApi.BuildSoa(snapshot);
        _documents = documents;
        _catalogVersion = catalogVersion;
        _byEntry = snapshot.Evidence.ToLookup(l => l.Mapping.ControlId, StringComparer.Ordinal);
        _entryIds = Entries.Select(g => g.Entry.Id).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The name a download of the pack gets.</summary>
    public const string FileName = "aims-evidence-pack.zip";

    private IEnumerable<ControlGap> Entries => _snapshot.Report.Entries.Where(g => !g.Entry.Container);

    /// <summary>Reads the gap snapshot (with its evidence links), the SoA rows and the current documents.</summary>
    public static async Task<EvidencePackWriter> LoadAsync(EvidenceService evidence, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        var snapshot = await evidence.GetGapSnapshotAsync(ct).ConfigureAwait(false);
        var documents = await evidence.Store.ListDocumentsAsync(false, ct).ConfigureAwait(false);
        var systems = (await evidence.Inventory.ListAsync(ct).ConfigureAwait(false)).Select(AiSystemView.From).ToArray();
        return new EvidencePackWriter(snapshot, documents, evidence.Catalog.Version, systems);
    }

    /// <summary>Writes the archive to <paramref name="output"/> (left open), entry by entry.</summary>
    public async Task<EvidencePackSummary> WriteAsync(Stream output, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(output);
        var stamp = _snapshot.Report.GeneratedAt;
        var report = _snapshot.Report;
        using var sink = new EntrySink(output);
        var archive = await ZipArchive.CreateAsync(sink, ZipArchiveMode.Create, leaveOpen: true, entryNameEncoding: null, ct).ConfigureAwait(false);
        await using (archive.ConfigureAwait(false))
        {
            await AddAsync(archive, sink, "index.html", stamp, IndexPage(), ct).ConfigureAwait(false);
            await AddAsync(archive, sink, "soa.html", stamp, SoaPage(), ct).ConfigureAwait(false);
            await AddAsync(archive, sink, "gaps.html", stamp, GapsPage(), ct).ConfigureAwait(false);
            await AddAsync(archive, sink, "documents.html", stamp, DocumentsPage(), ct).ConfigureAwait(false);
            await AddAsync(archive, sink, "inventory.html", stamp, InventoryPage(), ct).ConfigureAwait(false);
            await AddAsync(archive, sink, "inventory.json", stamp, JsonSerializer.Serialize(new AiSystemList(_systems.Count, _systems), AimsEvidenceApi.ExportJson), ct).ConfigureAwait(false);
            await AddAsync(archive, sink, "soa.json", stamp, JsonSerializer.Serialize(new { standard = "ISO/IEC 42001:2023 Annex A", draft = true, controls = _soa, aiSystems = _systems }, AimsEvidenceApi.ExportJson), ct).ConfigureAwait(false);
            await AddAsync(archive, sink, "gaps.json", stamp, JsonSerializer.Serialize(GapReportView.From(report, Entries), AimsEvidenceApi.ExportJson), ct).ConfigureAwait(false);
            foreach (var g in Entries)
            {
                await AddAsync(archive, sink, EntryFile(g.Entry.Id), stamp, EntryPage(g), ct).ConfigureAwait(false);
            }
        }

        await sink.DrainAsync(ct).ConfigureAwait(false);

        return new EvidencePackSummary(_entryIds.Count, _snapshot.Evidence.Select(l => l.Passage.Id).Distinct(StringComparer.Ordinal).Count(), _documents.Count);
    }

    private static async Task AddAsync(ZipArchive archive, EntrySink sink, string name, DateTimeOffset stamp, string content, CancellationToken ct)
    {
        var entry = archive.CreateEntry(name, CompressionLevel.Optimal);
        entry.LastWriteTime = stamp;
        var stream = await entry.OpenAsync(ct).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            await stream.WriteAsync(Utf8.GetBytes(content), ct).ConfigureAwait(false);
        }

        await sink.DrainAsync(ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The archive's output. The deflate stream of an entry finishes with synchronous writes even when disposed
    /// asynchronously, which an HTTP response body refuses; those bytes (at most one compressed entry) are held here
    /// and written asynchronously after each entry, so the caller's stream only ever sees asynchronous writes.
    /// </summary>
    private sealed class EntrySink(Stream output) : Stream
    {
        private readonly MemoryStream _pending = new();
        private long _position;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public async Task DrainAsync(CancellationToken ct)
        {
            if (_pending.Length > 0)
            {
                await output.WriteAsync(_pending.GetBuffer().AsMemory(0, (int)_pending.Length), ct).ConfigureAwait(false);
                _pending.SetLength(0);
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _pending.Write(buffer);
            _position += buffer.Length;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await DrainAsync(cancellationToken).ConfigureAwait(false);
            await output.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            _position += buffer.Length;
        }

        public override void Flush()
        {
        }

        public override async Task FlushAsync(CancellationToken cancellationToken)
        {
            await DrainAsync(cancellationToken).ConfigureAwait(false);
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _pending.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    private static readonly UTF8Encoding Utf8 = new(false);

    /// <summary>The archive path of an entry's page: its id with anything but letters, digits, dots and hyphens replaced.</summary>
    public static string EntryFile(string entryId)
    {
        ArgumentNullException.ThrowIfNull(entryId);
        var safe = new StringBuilder(entryId.Length);
        foreach (var c in entryId)
        {
            safe.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '_');
        }

        return "entries/" + safe + ".html";
    }

    /// <summary>The anchor id of a passage's block on an entry page.</summary>
    public static string PassageAnchor(string passageId) => "p-" + passageId;

    private static string H(string? text) => WebUtility.HtmlEncode(text ?? string.Empty);

    private static string Time(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    private static string Score(double s) => s.ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>A link from a top-level page to a passage's block (or to the entry page when there is no passage).</summary>
    private static string CiteLink(string entryId, string? passageId, string text)
    {
        var href = EntryFile(entryId) + (passageId is null ? string.Empty : "#" + Uri.EscapeDataString(PassageAnchor(passageId)));
        return $"<a href=\"{H(href)}\">{H(text)}</a>";
    }

    private string EntryLink(string entryId) =>
        _entryIds.Contains(entryId) ? CiteLink(entryId, null, entryId) : H(entryId);

    private const string Style = """
        body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1b1f24}
        table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border:1px solid #c9d1d9;padding:.3rem .5rem;text-align:left;vertical-align:top}
        th{background:#f0f3f6}nav a{margin-right:1rem}.status{font-weight:600}.nonconformity,.finding{color:#a40e26}.missing{color:#9a6700}
        .covered{color:#116329}.passage{border:1px solid #c9d1d9;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}
        .passage:target{outline:3px solid #0969da}blockquote{white-space:pre-wrap;margin:.5rem 0;padding:.5rem 1rem;background:#f6f8fa}
        .note{background:#fff8c5;padding:.5rem 1rem;border-radius:6px}
        """;

    /// <summary>A complete page: the CSP forbids scripts and every fetch, so the pack renders the same offline and can run nothing.</summary>
    private static string Page(string title, string body, string prefix = "") =>
        $"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{H(title)}</title><style>{Style}</style></head>
        <body><nav><a href="{prefix}index.html">Index</a><a href="{prefix}soa.html">Statement of Applicability</a><a href="{prefix}gaps.html">Gap report</a><a href="{prefix}documents.html">Documents</a><a href="{prefix}inventory.html">AI systems</a></nav>
        <h1>{H(title)}</h1>
        {body}
        </body></html>
        """;

    private static string StatusCell(GapStatus status) => $"<td class=\"status {GapAnalyzer.StatusText(status)}\">{GapAnalyzer.StatusText(status)}</td>";

    private string IndexPage()
    {
        var report = _snapshot.Report;
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture, $"<p>ISO/IEC 42001 evidence found by Aims.Evidence in {_documents.Count} current documents, for {_entryIds.Count} clauses and Annex A controls (catalog {H(_catalogVersion)}). Generated {Time(report.GeneratedAt)}. A draft: review every entry before relying on it.</p>");
        b.Append("<h2>Contents</h2><ul>")
            .Append("<li><a href=\"soa.html\">Statement of Applicability</a> (draft; machine-readable: <a href=\"soa.json\">soa.json</a>)</li>")
            .Append("<li><a href=\"gaps.html\">Gap report</a> (machine-readable: <a href=\"gaps.json\">gaps.json</a>)</li>")
            .Append("<li><a href=\"documents.html\">Documents</a></li>")
            .Append(CultureInfo.InvariantCulture, $"<li><a href=\"inventory.html\">AI systems</a> ({_systems.Count}; machine-readable: <a href=\"inventory.json\">inventory.json</a>)</li></ul>");
        b.Append("<h2>Entries by status</h2><table><thead><tr><th>Status</th><th>Entries</th></tr></thead><tbody>");
        foreach (var group in Entries.GroupBy(g => g.Status).OrderBy(g => g.Key))
        {
            b.Append("<tr>").Append(StatusCell(group.Key)).Append(CultureInfo.InvariantCulture, $"<td>{group.Count()}</td></tr>");
        }

        b.Append(CultureInfo.InvariantCulture, $"</tbody></table><p>Covered: {report.Overall.CoveredPercent.ToString("0.0", CultureInfo.InvariantCulture)}% of {report.Overall.Total}; with any evidence: {report.Overall.EvidencedPercent.ToString("0.0", CultureInfo.InvariantCulture)}%.</p>");
        b.Append("<h2>Entries</h2><table><thead><tr><th>Entry</th><th>Title</th><th>Status</th><th>Cited passages</th><th>Best evidence</th></tr></thead><tbody>");
        foreach (var g in Entries)
        {
            b.Append("<tr><td>").Append(EntryLink(g.Entry.Id)).Append("</td><td>").Append(H(g.Entry.Title)).Append("</td>").Append(StatusCell(g.Status))
                .Append(CultureInfo.InvariantCulture, $"<td>{CitedPassages(g.Entry.Id).Count()}</td><td>")
                .Append(g.BestEvidence is { } best ? CiteLink(g.Entry.Id, best.PassageId, CitationText.Of(best.DocumentName, best.Page, best.Headings, best.RowStart, best.RowEnd)) : "-")
                .Append("</td></tr>");
        }

        b.Append("</tbody></table>");
        return Page("ISO/IEC 42001 evidence pack", b.ToString());
    }

    /// <summary>The AI-system inventory: every system the documents describe, with its fields and the citations it came from.</summary>
    private string InventoryPage()
    {
        var b = new StringBuilder("<p>Every AI system the documents describe (model and system cards, inventories, registers), merged across documents, with the reviewer's edits (confirmed systems are marked).</p>");
        b.Append("<table><thead><tr><th>System</th><th>Purpose</th><th>Provider</th><th>Role</th><th>Unit</th><th>Stage</th><th>Risk</th><th>Cited in</th></tr></thead><tbody>");
        foreach (var a in _systems)
        {
            b.Append("<tr><td>").Append(H(a.Name)).Append(a.Confirmed ? " (confirmed)" : string.Empty).Append("</td><td>").Append(H(a.Purpose ?? "-")).Append("</td><td>").Append(H(a.Provider ?? "-"))
                .Append("</td><td>").Append(H(a.Role ?? "-")).Append("</td><td>").Append(H(a.Unit ?? "-")).Append("</td><td>").Append(H(a.Lifecycle ?? "-"))
                .Append("</td><td>").Append(H(a.RiskLevel ?? "-")).Append("</td><td>").AppendJoin("<br>", a.Documents.Select(d => H(d.Citation))).Append("</td></tr>");
        }

        b.Append("</tbody></table>");
        return Page("AI-system inventory", b.ToString());
    }

    private string SoaPage()
    {
        var b = new StringBuilder("<p>Every Annex A control with its applicability, justification, status and the evidence it cites (at most five passages per control: accepted first, then by probability).</p>");
        b.Append("<table><thead><tr><th>Control</th><th>Title</th><th>Applicable</th><th>Justification</th><th>Status</th><th>Evidence</th></tr></thead><tbody>");
        foreach (var r in _soa)
        {
            var cited = AimsEvidenceApi.SoaCitedLinks(_byEntry[r.ControlId]).ToArray();
            b.Append("<tr><td>").Append(EntryLink(r.ControlId)).Append("</td><td>").Append(H(r.Title)).Append("</td><td>").Append(H(r.Applicable))
                .Append("</td><td>").Append(H(r.Justification)).Append(CultureInfo.InvariantCulture, $"</td><td class=\"status {H(r.Status)}\">{H(r.Status)}: ").Append(H(r.Reason)).Append("</td><td>");
            if (cited.Length == 0)
            {
                b.Append('-');
            }

            b.AppendJoin("<br>", cited.Select((l, i) => CiteLink(r.ControlId, l.Passage.Id, r.Evidence[i])));
            b.Append("</td></tr>");
        }

        b.Append("</tbody></table>");
        return Page("Statement of Applicability (draft)", b.ToString());
    }

    private string GapsPage()
    {
        var b = new StringBuilder("<p>Every clause and control that is not covered (and not excluded), the most severe first, with the best evidence found for it.</p>");
        b.Append("<table><thead><tr><th>Entry</th><th>Title</th><th>Status</th><th>Reason</th><th>Missing document types</th><th>Best evidence</th></tr></thead><tbody>");
        foreach (var g in Entries.Where(g => g.Status is not (GapStatus.Covered or GapStatus.NotApplicable)).OrderBy(g => g.Status))
        {
            b.Append("<tr><td>").Append(EntryLink(g.Entry.Id)).Append("</td><td>").Append(H(g.Entry.Title)).Append("</td>").Append(StatusCell(g.Status))
                .Append("<td>").Append(H(g.Reason)).Append("</td><td>").Append(H(string.Join(", ", g.MissingDocTypes))).Append("</td><td>")
                .Append(g.BestEvidence is { } best ? CiteLink(g.Entry.Id, best.PassageId, CitationText.Of(best.DocumentName, best.Page, best.Headings, best.RowStart, best.RowEnd) + $" ({Score(best.Score)})") : "-")
                .Append("</td></tr>");
        }

        b.Append("</tbody></table>");
        return Page("Gap report", b.ToString());
    }

    private string DocumentsPage()
    {
        var cited = _snapshot.Evidence.GroupBy(l => l.Document.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(l => l.Passage.Id).Distinct(StringComparer.Ordinal).Count(), StringComparer.Ordinal);
        var b = new StringBuilder("<p>The current version of every ingested document.</p>");
        b.Append("<table><thead><tr><th>Document</th><th>Version</th><th>Type</th><th>Status</th><th>Pages</th><th>Passages</th><th>Cited passages</th><th>Evidence date</th><th>Ingested</th><th>SHA-256</th></tr></thead><tbody>");
        foreach (var d in _documents.OrderBy(d => d.Name, StringComparer.Ordinal))
        {
            b.Append(CultureInfo.InvariantCulture, $"<tr id=\"{H(DocumentAnchor(d.Id))}\"><td>{H(d.Name)}</td><td>{d.Version}</td><td>{H(d.DocType ?? "-")}</td><td>{H(d.Status.ToString().ToLowerInvariant())}</td><td>{d.PageCount}</td><td>{d.PassageCount}</td><td>{cited.GetValueOrDefault(d.Id)}</td><td>{d.EvidenceDate.UtcDateTime:yyyy-MM-dd}</td><td>{Time(d.IngestedAt)}</td><td><code>{H(d.Sha256)}</code></td></tr>");
        }

        b.Append("</tbody></table>");
        return Page("Documents", b.ToString());
    }

    private static string DocumentAnchor(string documentId) => "d-" + documentId;

    /// <summary>An entry's evidence links grouped by passage: accepted first, then by the best probability.</summary>
    private IEnumerable<IGrouping<string, EvidenceLink>> CitedPassages(string entryId) =>
        _byEntry[entryId].GroupBy(l => l.Passage.Id, StringComparer.Ordinal)
            .OrderByDescending(p => p.Any(l => l.Mapping.Review == ReviewState.Accepted)).ThenByDescending(p => p.Max(l => l.Mapping.Score));

    private string EntryPage(ControlGap g)
    {
        var e = g.Entry;
        var b = new StringBuilder();
        b.Append("<table><tbody>")
            .Append(CultureInfo.InvariantCulture, $"<tr><th>Kind</th><td>{(e.Kind == EntryKind.Clause ? "clause" : "Annex A control")}, {H(e.Group)}{(e.SubGroup is null ? string.Empty : " / " + H(e.SubGroup))}</td></tr>")
            .Append("<tr><th>Status</th>").Append(StatusCell(g.Status)).Append("</tr>")
            .Append("<tr><th>Reason</th><td>").Append(H(g.Reason)).Append("</td></tr>")
            .Append("<tr><th>Applicability</th><td>")
            .Append(g.Applicability is { } decision
                ? $"{(decision.Applicable ? "applicable" : "not applicable")} (reviewer's decision{(decision.Justification.Length > 0 ? ": " + H(decision.Justification) : string.Empty)})"
                : "applicable (by default; no reviewer's decision)")
            .Append("</td></tr>");
        if (g.Owner is { } owner)
        {
            b.Append("<tr><th>Owner</th><td>").Append(H(owner.Owner)).Append(owner.DueDate is { } due ? ", due " + due.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : string.Empty).Append("</td></tr>");
        }

        if (g.MissingDocTypes.Count > 0)
        {
            b.Append("<tr><th>Missing document types</th><td>").Append(H(string.Join(", ", g.MissingDocTypes))).Append("</td></tr>");
        }

        b.Append("</tbody></table>");
        var passages = CitedPassages(e.Id).ToArray();
        b.Append(CultureInfo.InvariantCulture, $"<h2>Cited passages ({passages.Length})</h2>");
        if (passages.Length == 0)
        {
            b.Append("<p>No passage of a current document is mapped to this entry.</p>");
        }

        foreach (var p in passages)
        {
            var first = p.First();
            var (d, passage) = (first.Document, first.Passage);
            var location = passage.RowStart is { } row
                ? $"sheet {passage.Page}, {(passage.RowEnd is { } end && end > row ? $"rows {row}-{end}" : $"row {row}")}"
                : $"page {passage.Page}";
            var section = passage.Headings.Count > 0 ? string.Join(" › ", passage.Headings) : "-";
            b.Append(CultureInfo.InvariantCulture, $"<section class=\"passage\" id=\"{H(PassageAnchor(passage.Id))}\"><h3>{H(CitationText.Of(d, passage))}</h3>")
                .Append(CultureInfo.InvariantCulture, $"<table><tbody><tr><th>Document</th><td><a href=\"../documents.html#{H(Uri.EscapeDataString(DocumentAnchor(d.Id)))}\">{H(d.Name)}</a></td></tr>")
                .Append(CultureInfo.InvariantCulture, $"<tr><th>Version</th><td>{d.Version} (ingested {Time(d.IngestedAt)}, SHA-256 <code>{H(d.Sha256)}</code>)</td></tr>")
                .Append(CultureInfo.InvariantCulture, $"<tr><th>Location</th><td>{location}</td></tr><tr><th>Section</th><td>{H(section)}</td></tr>")
                .Append(CultureInfo.InvariantCulture, $"<tr><th>Passage</th><td><code>{H(passage.Id)}</code></td></tr></tbody></table>")
                .Append("<table><thead><tr><th>Mapping</th><th>Probability</th><th>Polarity</th><th>Method</th><th>Review decision</th><th>Rationale</th></tr></thead><tbody>");
            foreach (var l in p.OrderByDescending(l => l.Mapping.Score))
            {
                var m = l.Mapping;
                var polarity = EvidenceCitation.PolarityText(m.Polarity);
                b.Append(CultureInfo.InvariantCulture, $"<tr><td><code>{H(m.Id)}</code></td><td>{Score(m.Score)}</td><td class=\"{polarity}\">{polarity}</td><td>{H(m.Method)}</td><td>{EvidenceCitation.ReviewText(m.Review)}</td><td>{H(m.Rationale)}</td></tr>");
            }

            b.Append("</tbody></table><blockquote>").Append(H(passage.Text)).Append("</blockquote></section>");
        }

        return Page($"{e.Id} {e.Title}", b.ToString(), "../");
    }
}
