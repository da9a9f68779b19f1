using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Gaps;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Services;
using Aims.Evidence.Core.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Aims.Evidence.Api;

/// <summary>The REST API for auditors and dashboards: minimal endpoints under /api/v1, OpenAPI at /openapi/v1.json.</summary>
public static partial class AimsEvidenceApi
{
    public const string Prefix = "/api/v1";

    /// <summary>
    /// Registers the API's infrastructure: JSON, problem details, OpenAPI, API-key authentication and role policies.
    /// The host registers the evidence services: <see cref="EvidenceService"/>, <see cref="IEvidenceStore"/>,
    /// <see cref="IPassageIndex"/> and <see cref="IReviewStore"/> (and an ingestor for the inbox watcher).
    /// </summary>
    public static IServiceCollection AddAimsEvidenceApi(this IServiceCollection services, Action<AimsApiOptions>? configure = null)
    {
        services.AddAimsQueries(configure);
        services.AddOpenApi("v1", o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "Aims.Evidence API";
            doc.Info.Description = "ISO/IEC 42001 evidence, gaps and reviews. Authenticate with the X-Api-Key header.";
            return Task.CompletedTask;
        }));
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(ApiPolicies.Reader, p => p.RequireAuthenticatedUser().RequireRole(ApiPolicies.Reader))
            .AddPolicy(ApiPolicies.Reviewer, p => p.RequireAuthenticatedUser().RequireRole(ApiPolicies.Reviewer))
            .AddPolicy(ApiPolicies.Admin, p => p.RequireAuthenticatedUser().RequireRole(ApiPolicies.Admin));
        services.AddAimsSecurity();
        services.AddHostedService<InboxIngestionService>();
        services.AddHostedService<DigestService>();
        services.AddSingleton<ReviewLearningService>();
        services.AddHostedService(sp => sp.GetRequiredService<ReviewLearningService>());
        return services;
    }

    /// <summary>
    /// What <see cref="AimsQueries"/> needs from the request's services in any host: the API options (page sizes),
    /// the JSON options every body is written with (camelCase enums, nulls kept) and problem details.
    /// </summary>
    public static IServiceCollection AddAimsQueries(this IServiceCollection services, Action<AimsApiOptions>? configure = null)
    {
        services.AddOptions<AimsApiOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.ConfigureHttpJsonOptions(o => ApiJson.Configure(o.SerializerOptions));
        services.AddProblemDetails();
        services.AddAimsTasks();
        return services;
    }

    public static IEndpointRouteBuilder MapAimsEvidenceApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();

        var api = app.MapGroup(Prefix).RequireAuthorization(ApiPolicies.Reader).WithTags("aims");
        api.MapGet("/health", () => Results.Ok(new Health("ok", typeof(AimsEvidenceApi).Assembly.GetName().Version?.ToString() ?? "0"))).AllowAnonymous().WithName("health");

        api.MapGet("/controls", AimsQueries.GetControls).WithName("listControls").Produces<Page<ControlSummary>>();
        api.MapGet("/controls/{id}", AimsQueries.GetControl).WithName("getControl").Produces<ControlDetail>().ProducesProblem(404);
        api.MapGet("/gaps", AimsQueries.GetGaps).WithName("listGaps").Produces<Page<ControlSummary>>();
        api.MapGet("/coverage", AimsQueries.GetCoverage).WithName("getCoverage").Produces<CoverageReport>();
        api.MapGet("/frameworks", FrameworkQueries.GetFrameworks).WithName("listFrameworks").Produces<FrameworkSummary[]>();
        api.MapGet("/frameworks/{id}/coverage", FrameworkQueries.GetFrameworkCoverage).WithName("getFrameworkCoverage")
            .Produces<FrameworkCoverageView>().ProducesProblem(400).ProducesProblem(404);
        api.MapGet("/documents", AimsQueries.GetDocuments).WithName("listDocuments").Produces<Page<DocumentSummary>>();
        api.MapGet("/documents/{id}", AimsQueries.GetDocument).WithName("getDocument").Produces<DocumentDetail>().ProducesProblem(404);
        api.MapPost("/documents", UploadDocument).WithName("uploadDocument").RequireAuthorization(ApiPolicies.Reviewer)
            .Accepts<IFormFile>("multipart/form-data").Produces<UploadResult>(202).ProducesProblem(413).ProducesProblem(400).DisableAntiforgery().WithMetadata(LargeBodyMetadata.Instance);
        api.MapPut("/documents/{id}/effective-date", SetEffectiveDate).WithName("setEffectiveDate").RequireAuthorization(ApiPolicies.Reviewer)
            .Produces<DocumentSummary>().ProducesProblem(400).ProducesProblem(404);
        api.MapPut("/controls/{id}/applicability", SetApplicability).WithName("setApplicability").RequireAuthorization(ApiPolicies.Reviewer)
            .Produces<ApplicabilityView>().ProducesProblem(400).ProducesProblem(404);
        api.MapPut("/controls/{id}/owner", SetOwner).WithName("setOwner").RequireAuthorization(ApiPolicies.Reviewer)
            .Produces<OwnerView>().Produces(204).ProducesProblem(400).ProducesProblem(404);
        api.MapDelete("/controls/{id}/owner", ClearOwner).WithName("clearOwner").RequireAuthorization(ApiPolicies.Reviewer)
            .Produces(204).ProducesProblem(404);
        api.MapGet("/tasks", GetTasks).WithName("listTasks").Produces<TaskList>().ProducesProblem(400);
        api.MapGet("/ai-systems", ListAiSystems).WithName("listAiSystems").Produces<AiSystemList>();
        api.MapGet("/ai-systems/{id}", GetAiSystem).WithName("getAiSystem").Produces<AiSystemView>().ProducesProblem(404);
        api.MapPost("/ai-systems", AddAiSystem).WithName("addAiSystem").RequireAuthorization(ApiPolicies.Reviewer)
            .Produces<AiSystemView>(201).ProducesProblem(400).ProducesProblem(409);
        api.MapPost("/ai-systems/{id}/edits", EditAiSystem).WithName("editAiSystem").RequireAuthorization(ApiPolicies.Reviewer)
            .Produces<AiSystemView>().Produces(204).ProducesProblem(400).ProducesProblem(404);
        api.MapGet("/search", AimsQueries.Search).WithName("search").Produces<Page<SearchResult>>();
        api.MapPost("/mappings/{id}/review", ReviewMapping).WithName("reviewMapping").RequireAuthorization(ApiPolicies.Reviewer)
            .Produces<MappingView>().ProducesProblem(400).ProducesProblem(404);
        api.MapPost("/passages/{id}/mappings", AddManualMapping).WithName("addManualMapping").RequireAuthorization(ApiPolicies.Reviewer)
            .Produces<MappingView>(201).ProducesProblem(400).ProducesProblem(404);
        api.MapGet("/exports/soa", AimsQueries.ExportSoa).WithName("exportSoa");
        api.MapGet("/exports/oscal", AimsQueries.ExportOscal).WithName("exportOscal");
        api.MapGet("/exports/pack", AimsQueries.ExportPack).WithName("exportPack").Produces(200, contentType: "application/zip");
        api.MapGet("/audit-log", GetAuditLog).WithName("auditLog").Produces<Page<AuditView>>();
        api.MapPost("/keys", CreateKey).WithName("createKey").RequireAuthorization(ApiPolicies.Admin).Produces<CreatedKey>(201).ProducesProblem(400);
        MapKeyRoutes(api);
        return app;
    }

    private static string Actor(ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.NameIdentifier) ?? "anonymous";

    private static async Task<IResult> UploadDocument(HttpContext context, IOptions<AimsApiOptions> options, CancellationToken ct)
    {
        var o = options.Value;
        if (string.IsNullOrEmpty(o.InboxPath))
        {
            return ApiResults.Problem(StatusCodes.Status503ServiceUnavailable, "Uploads disabled", "No inbox folder is configured.");
        }

        var (parts, problem) = await ReadUploadAsync(context, o, ct).ConfigureAwait(false);
        if (parts is null)
        {
            return problem!;
        }

        // Every file is written under a hidden temporary name (which the watcher ignores); once all are written and
        // audited they are moved into place, each in one step. A file of the same name is replaced: the watcher then
        // ingests it as the next version of that document (as the Functions host does with its blob).
        Directory.CreateDirectory(o.InboxPath);
        var temps = new List<string>(parts.Count);
        try
        {
            var files = new List<UploadedFile>(parts.Count);
            foreach (var part in parts)
            {
                var temp = Path.Combine(o.InboxPath, "." + Guid.NewGuid().ToString("N") + ".part");
                temps.Add(temp);
                await using var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true);
                await using var input = part.File.OpenReadStream();
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = new byte[81920];
                int read;
                while ((read = await input.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    await output.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
                }

                files.Add(new UploadedFile(part.FileName, part.File.Length, Convert.ToHexStringLower(hash.GetHashAndReset())));
            }

            await AuditUploadsAsync(context.RequestServices.GetService<IReviewStore>(), Actor(context.User), files, ct).ConfigureAwait(false);
            for (var i = 0; i < files.Count; i++)
            {
                File.Move(temps[i], Path.Combine(o.InboxPath, files[i].FileName), overwrite: true);
            }

            return UploadAccepted(files);
        }
        finally
        {
            foreach (var temp in temps)
            {
                File.Delete(temp); // only what was not moved into place
            }
        }
    }

    /// <summary>The answer to an accepted upload, the same in every host: 202 with every stored name, size and hash.</summary>
    public static IResult UploadAccepted(IReadOnlyList<UploadedFile> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        return Results.Accepted(null as string, new UploadResult(files[0].FileName, files[0].Size, files[0].Sha256, "queued", files));
    }

    /// <summary>Records each upload in the audit log (<c>document.upload</c>; the key id as actor; name, size, SHA-256), in every host.</summary>
    public static async Task AuditUploadsAsync(IReviewStore? reviews, string actor, IEnumerable<UploadedFile> files, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (reviews is null)
        {
            return;
        }

        foreach (var file in files)
        {
            await reviews.AppendAuditAsync(actor, "document.upload", file.FileName, new { name = file.FileName, size = file.Size, sha256 = file.Sha256 }, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads and checks an upload request, the same in every host (the API saves into the inbox folder, the Functions
    /// app into the inbox blob container): size limits (413), a readable multipart form (400) whose files are all
    /// non-empty, with names the inbox ingests (not <c>*.part</c>, <c>*.tmp</c> or hidden) and no name twice (400).
    /// Every file of the form is returned, under its safe name, or the problem to answer with: all or none.
    /// </summary>
    public static async Task<(IReadOnlyList<UploadPart>? Files, IResult? Problem)> ReadUploadAsync(HttpContext context, AimsApiOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        var o = options;
        var tooLarge = ApiResults.Problem(StatusCodes.Status413PayloadTooLarge, "Upload too large", $"The largest accepted upload is {o.MaxUploadBytes} bytes.");
        const long formOverhead = 64 * 1024;
        if (context.Request.ContentLength > o.MaxUploadBytes + formOverhead)
        {
            return (null, tooLarge);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = o.MaxUploadBytes + formOverhead;
        }

        if (!context.Request.HasFormContentType)
        {
            return (null, ApiResults.Problem(400, "Multipart form expected", "Send the document as multipart/form-data with a 'file' field."));
        }

        var malformed = ApiResults.Problem(400, "Malformed form", "The multipart body could not be read.");
        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(ct).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, tooLarge);
        }
        catch (BadHttpRequestException)
        {
            return (null, malformed);
        }
        catch (InvalidDataException)
        {
            return (null, malformed);
        }
        catch (IOException)
        {
            // A body that ends before its closing boundary, or holds no boundary at all.
            return (null, malformed);
        }

        if (form.Files.Count == 0 || form.Files.All(f => f.Length == 0))
        {
            return (null, ApiResults.Problem(400, "No file", "The form has no non-empty 'file' field."));
        }

        var parts = new List<UploadPart>(form.Files.Count);
        foreach (var file in form.Files)
        {
            var name = SafeFileName(file.FileName);
            if (file.Length == 0)
            {
                return (null, ApiResults.Problem(400, "Empty file", $"The form's file '{name}' is empty; nothing was saved."));
            }

            if (file.Length > o.MaxUploadBytes)
            {
                return (null, tooLarge);
            }

            if (InboxIngestionService.IgnoresName(name))
            {
                return (null, ApiResults.Problem(400, "File name not ingested", $"'{name}' is a name the inbox ignores (hidden, *.part or *.tmp); rename the file. Nothing was saved."));
            }

            if (parts.Any(p => string.Equals(p.FileName, name, StringComparison.Ordinal)))
            {
                return (null, ApiResults.Problem(400, "Duplicate file name", $"The form holds '{name}' twice; send one version at a time. Nothing was saved."));
            }

            parts.Add(new UploadPart(name, file));
        }

        return (parts, null);
    }

    /// <summary>A file name safe on every platform: no directories, only letters, digits, '.', '-', '_'; never hidden.</summary>
    public static string SafeFileName(string? fileName)
    {
        var name = Path.GetFileName((fileName ?? string.Empty).Replace('\\', '/').Split('/')[^1]);
        var chars = name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').ToArray();
        var safe = new string(chars).Trim('.', ' ');
        if (safe.Length == 0 || safe.All(c => c == '_'))
        {
            safe = "upload-" + DateTimeOffset.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        }

        return safe.Length > 120 ? safe[..80] + safe[^40..] : safe;
    }

    private static Task<IResult> SetEffectiveDate(HttpContext context, IReviewStore reviews, string id, EffectiveDateRequest? body, CancellationToken ct) =>
        SetEffectiveDateAsync(reviews, id, body, Actor(context.User), ct);

    /// <summary>
    /// <c>PUT /documents/{id}/effective-date</c> in any host: checks the date (yyyy-MM-dd, empty clears it), sets it
    /// through the host's <see cref="IReviewStore"/> and answers with the document, a 400 or a 404 problem.
    /// </summary>
    public static async Task<IResult> SetEffectiveDateAsync(IReviewStore reviews, string id, EffectiveDateRequest? body, string actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(reviews);
        DateOnly? date = null;
        if (!string.IsNullOrWhiteSpace(body?.EffectiveDate))
        {
            if (!DateOnly.TryParseExact(body.EffectiveDate, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
            {
                return ApiResults.Problem(400, "Invalid effective date", "effectiveDate must be a date as yyyy-MM-dd.");
            }

            date = d;
        }

        var doc = await reviews.SetEffectiveDateAsync(id, date, actor, ct).ConfigureAwait(false);
        return doc is null ? ApiResults.NotFound("document", id) : Results.Ok(DocumentSummary.From(doc));
    }

    private static Task<IResult> SetApplicability(HttpContext context, EvidenceService evidence, string id, ApplicabilityRequest? body, CancellationToken ct) =>
        SetApplicabilityAsync(context.RequestServices.GetService<IApplicabilityStore>() ?? evidence.Store as IApplicabilityStore, evidence.Catalog, id, body, Actor(context.User), ct);

    /// <summary>
    /// <c>PUT /controls/{id}/applicability</c> in any host: checks the entry (a clause or Annex A control, not a
    /// container), the decision and the justification (required to exclude), records it (audited) and answers with it.
    /// An excluded entry is "notApplicable" in the gap report and leaves its counts; the SoA shows every decision.
    /// </summary>
    public static async Task<IResult> SetApplicabilityAsync(IApplicabilityStore? store, IsoCatalog catalog, string id, ApplicabilityRequest? body, string actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        if (!catalog.TryGetDecidable(id, out var decided))
        {
            return ApiResults.NotFound("control", id);
        }

        var entryId = decided.Id;

        if (body?.Applicable is not { } applicable)
        {
            return ApiResults.Problem(400, "Invalid applicability", "applicable must be true or false.");
        }

        var justification = body.Justification?.Trim() ?? string.Empty;
        if (!applicable && justification.Length == 0)
        {
            return ApiResults.Problem(400, "Justification required", "excluding an entry needs a justification (ISO/IEC 42001 6.1.3).");
        }

        if (justification.Length > 2000)
        {
            return ApiResults.Problem(400, "Justification too long", "justification is limited to 2000 characters.");
        }

        if (store is null)
        {
            return ApiResults.Problem(501, "Not supported", "this host's store keeps no applicability decisions.");
        }

        var decision = await store.SetApplicabilityAsync(entryId, applicable, justification, actor, ct).ConfigureAwait(false);
        return Results.Ok(ApplicabilityView.From(decision));
    }

    private static async Task<IResult> ReviewMapping(HttpContext context, IReviewStore reviews, string id, ReviewRequest? body, CancellationToken ct) =>
        LearnFrom(context, await ReviewMappingAsync(id, body, Actor(context.User), reviews, ct).ConfigureAwait(false), StatusCodes.Status200OK);

    /// <summary>After a successful decision, the background re-scoring of similar passages (see <see cref="ReviewLearningService"/>).</summary>
    private static IResult LearnFrom(HttpContext context, IResult result, int success)
    {
        if (result is IStatusCodeHttpResult { StatusCode: var status } && status == success
            && context.RequestServices.GetService<IOptions<AimsApiOptions>>()?.Value.LearnFromReviews != false)
        {
            context.RequestServices.GetService<ReviewLearningService>()?.Request();
        }

        return result;
    }

    /// <summary>
    /// <c>POST /mappings/{id}/review</c> in any host: checks the decision, the polarity (only with "accept": the reviewer
    /// says whether the passage supports the entry or states a finding against it) and the comment, applies the review
    /// through the host's store and answers with the mapping, a 400 or a 404 problem.
    /// </summary>
    public static async Task<IResult> ReviewMappingAsync(
        string id,
        ReviewRequest? body,
        string actor,
        IReviewStore reviews,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(reviews);
        var state = body?.Decision?.Trim().ToLowerInvariant() switch
        {
            "accept" => ReviewState.Accepted,
            "reject" => ReviewState.Rejected,
            _ => (ReviewState?)null,
        };
        if (state is null)
        {
            return ApiResults.Problem(400, "Invalid decision", "decision must be \"accept\" or \"reject\".");
        }

        if (body!.Comment is { Length: > 2000 })
        {
            return ApiResults.Problem(400, "Comment too long", "comment is limited to 2000 characters.");
        }

        var polarityText = body.Polarity?.Trim().ToLowerInvariant();
        MappingPolarity? polarity = polarityText switch
        {
            "supports" => MappingPolarity.Supports,
            "finding" => MappingPolarity.Finding,
            _ => null,
        };
        if (polarity is null && !string.IsNullOrEmpty(polarityText))
        {
            return ApiResults.Problem(400, "Unknown polarity", "polarity must be \"supports\" or \"finding\".");
        }

        if (polarity is not null && state != ReviewState.Accepted)
        {
            return ApiResults.Problem(400, "Polarity needs accept", "polarity goes with decision \"accept\": a rejected mapping has none.");
        }

        var mapping = polarity is { } p
            ? await reviews.AcceptWithPolarityAsync(id, p, actor, body.Comment, ct).ConfigureAwait(false)
            : await reviews.ReviewMappingAsync(id, state.Value, actor, body.Comment, ct).ConfigureAwait(false);
        return mapping is null ? ApiResults.NotFound("mapping", id) : Results.Ok(MappingView.From(mapping));
    }

    private static async Task<IResult> AddManualMapping(HttpContext context, IReviewStore reviews, EvidenceService evidence, string id, ManualMappingRequest? body, CancellationToken ct) =>
        LearnFrom(context, await AddManualMappingAsync(reviews, evidence.Catalog, id, body, Actor(context.User), ct).ConfigureAwait(false), StatusCodes.Status201Created);

    /// <summary>
    /// <c>POST /passages/{id}/mappings</c> in any host: checks the control (a mappable catalog entry) and the rationale,
    /// adds the manual mapping through the host's <see cref="IReviewStore"/> and answers 201 with the mapping, a 400 or
    /// a 404 problem.
    /// </summary>
    public static async Task<IResult> AddManualMappingAsync(IReviewStore reviews, IsoCatalog catalog, string id, ManualMappingRequest? body, string actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(reviews);
        ArgumentNullException.ThrowIfNull(catalog);
        if (body is null || !catalog.TryGetDecidable(body.ControlId, out var entry))
        {
            return ApiResults.Problem(400, "Unknown control", "controlId must be a mappable clause or Annex A control id, e.g. \"A.6.2.2\" or \"6.1.2\".");
        }

        var rationale = string.IsNullOrWhiteSpace(body.Rationale) ? "added by a reviewer" : body.Rationale.Trim();
        if (rationale.Length > 2000)
        {
            return ApiResults.Problem(400, "Rationale too long", "rationale is limited to 2000 characters.");
        }

        MappingPolarity? polarity = body.Polarity?.Trim().ToLowerInvariant() switch
        {
            null or "" or "supports" => MappingPolarity.Supports,
            "finding" => MappingPolarity.Finding,
            _ => null,
        };
        if (polarity is null)
        {
            return ApiResults.Problem(400, "Unknown polarity", "polarity must be \"supports\" or \"finding\".");
        }

        var mapping = await reviews.AddManualMappingAsync(id, entry.Id, rationale, actor, polarity.Value, ct).ConfigureAwait(false);
        return mapping is null ? ApiResults.NotFound("passage", id) : Results.Created($"{Prefix}/controls/{entry.Id}", MappingView.From(mapping));
    }

    /// <summary><c>GET /audit-log</c> in any host: pages the host's audit entries by id (limit, continuationToken), with an ETag.</summary>
    public static async Task<IResult> GetAuditLog(HttpContext context, IReviewStore reviews, int? limit, string? continuationToken, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(reviews);
        if (ApiResults.TryPaging(context, limit, continuationToken, out var afterId, out var take) is { } bad)
        {
            return bad;
        }

        var entries = await reviews.ListAuditAsync(afterId, take + 1, ct).ConfigureAwait(false);
        var page = entries.Take(take).Select(e => new AuditView(e.Id, e.At, e.Actor, e.Action, e.Target, e.Before, e.After)).ToArray();
        var token = entries.Count > take ? ApiResults.EncodeToken(page[^1].Id) : null;
        return ApiResults.Cached(context, new Page<AuditView>(page, token, take));
    }

    private static Task<IResult> CreateKey(HttpContext context, IReviewStore reviews, CreateKeyRequest? body, CancellationToken ct) =>
        CreateKeyAsync(reviews, body, Actor(context.User), ct);

    /// <summary><c>POST /keys</c> in any host: checks the role and creates the key through the host's <see cref="IReviewStore"/> (which audits it).</summary>
    public static async Task<IResult> CreateKeyAsync(IReviewStore reviews, CreateKeyRequest? body, string actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(reviews);
        if (!ApiKeys.TryParseRole(body?.Role, out var role))
        {
            return ApiResults.Problem(400, "Invalid role", "role must be reader, reviewer or admin.");
        }

        var (record, key) = await reviews.CreateApiKeyAsync(role, actor, ct).ConfigureAwait(false);
        return Results.Created($"{Prefix}/keys/{record.Id}", new CreatedKey(record.Id, role.ToString().ToLowerInvariant(), key));
    }
}
