using Aims.Evidence.Core.Inventory;
using Aims.Evidence.Core.Services;
using Microsoft.AspNetCore.Http;

namespace Aims.Evidence.Api;

/// <summary>A document a system was found in: its name, page (sheet) and rows, the passage and the citation text.</summary>
public sealed record AiSystemDocument(string Name, int Page, int? Row, string DocumentId, string PassageId, string Citation);

/// <summary>One AI system of the inventory, as every host and the CLI's <c>--json</c> write it.</summary>
public sealed record AiSystemView(
    string Id,
    string Name,
    IReadOnlyList<string> Aliases,
    string? Purpose,
    string? Provider,
    string? Role,
    string? Lifecycle,
    string? RiskLevel,
    string? Unit,
    string? Data,
    string Kind,
    string Source,
    bool Confirmed,
    IReadOnlyList<AiSystemDocument> Documents)
{
    public static AiSystemView From(AiSystem s) => new(
        s.Id, s.Name, s.Aliases, s.Purpose, s.Provider, s.Role, s.Lifecycle, s.RiskLevel, s.Unit, s.Data, s.Kind, s.Source, s.Confirmed,
        s.Citations.Select(c => new AiSystemDocument(c.DocumentName, c.Page, c.RowStart, c.DocumentId, c.PassageId, c.Citation)).ToArray());
}

/// <summary>The inventory: <c>GET /api/v1/ai-systems</c>.</summary>
public sealed record AiSystemList(int Count, IReadOnlyList<AiSystemView> Systems)
{
    public static AiSystemList From(IReadOnlyList<AiSystem> systems) => new(systems.Count, systems.Select(AiSystemView.From).ToArray());
}

/// <summary>
/// A reviewer's edit of one system: <c>confirm</c>, <c>reject</c>, <c>rename</c> (name), <c>merge</c> (targetId: the
/// system it merges into) or <c>split</c> (name of the new system, documents: the document names that move to it).
/// </summary>
public sealed record AiSystemEditRequest(string? Action, string? Name, string? TargetId, IReadOnlyList<string>? Documents);

/// <summary>A system a reviewer adds by hand (<c>POST /api/v1/ai-systems</c>).</summary>
public sealed record AiSystemAddRequest(string? Name, string? Purpose, string? Provider, string? Role);

/// <summary>The AI-system inventory routes, shared by both hosts.</summary>
public static partial class AimsEvidenceApi
{
    public const int MaxSystemNameLength = 200;

    private static readonly string[] Roles = ["developer", "provider", "deployer", "user"];

    /// <summary><c>GET /ai-systems</c> in any host: the inventory with the reviewer edits applied.</summary>
    public static async Task<IResult> ListAiSystemsAsync(HttpContext context, EvidenceService evidence, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        var systems = await evidence.Inventory.ListAsync(ct).ConfigureAwait(false);
        return ApiResults.Cached(context, AiSystemList.From(systems));
    }

    /// <summary><c>GET /ai-systems/{id}</c> in any host: one system, or 404.</summary>
    public static async Task<IResult> GetAiSystemAsync(HttpContext context, EvidenceService evidence, string id, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        var systems = await evidence.Inventory.ListAsync(ct).ConfigureAwait(false);
        return systems.FirstOrDefault(s => s.Id == id) is { } system
            ? ApiResults.Cached(context, AiSystemView.From(system))
            : ApiResults.NotFound("AI system", id);
    }

    /// <summary>
    /// <c>POST /ai-systems/{id}/edits</c> in any host: checks the edit against the current inventory, records it
    /// (audited as <c>aisystem.{action}</c>) and answers with the system it leaves (the target of a merge, the new
    /// system of a split), or 204 for a reject.
    /// </summary>
    public static async Task<IResult> EditAiSystemAsync(EvidenceService evidence, string id, AiSystemEditRequest? body, string actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        var action = body?.Action?.Trim().ToLowerInvariant();
        if (action is null || action == AiSystemEditActions.Add || !AiSystemEditActions.All.Contains(action))
        {
            return ApiResults.Problem(400, "Invalid action", "action must be confirm, reject, rename, merge or split (POST /ai-systems adds a system).");
        }

        var systems = await evidence.Inventory.ListAsync(ct).ConfigureAwait(false);
        var system = systems.FirstOrDefault(s => s.Id == id);
        if (system is null)
        {
            return ApiResults.NotFound("AI system", id);
        }

        var name = body!.Name?.Trim();
        var edit = new AiSystemEdit { Action = action, SystemId = id, Actor = actor };
        string resultId = id;
        switch (action)
        {
            case AiSystemEditActions.Rename:
            case AiSystemEditActions.Split:
                if (name is null || name.Length == 0 || name.Length > MaxSystemNameLength)
                {
                    return ApiResults.Problem(400, "Invalid name", $"{action} needs a name of 1 to {MaxSystemNameLength} characters.");
                }

                edit = edit with { Name = name };
                if (action == AiSystemEditActions.Split)
                {
                    var documents = body.Documents?.Where(d => !string.IsNullOrWhiteSpace(d)).Distinct(StringComparer.Ordinal).ToArray() ?? [];
                    var cited = system.Citations.Select(c => c.DocumentName).Distinct(StringComparer.Ordinal).ToArray();
                    if (documents.Length == 0 || documents.Any(d => !cited.Contains(d, StringComparer.Ordinal)) || documents.Length >= cited.Length)
                    {
                        return ApiResults.Problem(400, "Invalid split", "documents must name some, not all, of the documents the system is cited in.");
                    }

                    resultId = AiSystemInventoryBuilder.IdOf(name, system.Unit);
                    if (systems.Any(s => s.Id == resultId))
                    {
                        return ApiResults.Problem(400, "Invalid split", $"a system with the key of '{name}' already exists; merge into it instead.");
                    }

                    edit = edit with { Documents = documents };
                }

                break;
            case AiSystemEditActions.Merge:
                if (body.TargetId is not { } target || target == id || systems.All(s => s.Id != target))
                {
                    return ApiResults.Problem(400, "Invalid merge", "targetId must be the id of another system of the inventory.");
                }

                edit = edit with { TargetId = target };
                resultId = target;
                break;
        }

        if (evidence.Inventory.Edits is not { } store)
        {
            return ApiResults.Problem(501, "Not supported", "this host's store keeps no inventory edits.");
        }

        await store.AddAiSystemEditAsync(edit, ct).ConfigureAwait(false);
        if (action == AiSystemEditActions.Reject)
        {
            return Results.NoContent();
        }

        var after = await evidence.Inventory.ListAsync(ct).ConfigureAwait(false);
        return after.FirstOrDefault(s => s.Id == resultId) is { } result ? Results.Ok(AiSystemView.From(result)) : Results.NoContent();
    }

    /// <summary><c>POST /ai-systems</c> in any host: adds a system by hand (audited as <c>aisystem.add</c>); 201 with it, 409 when its name is taken.</summary>
    public static async Task<IResult> AddAiSystemAsync(EvidenceService evidence, AiSystemAddRequest? body, string actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        var name = body?.Name?.Trim();
        if (name is null || name.Length == 0 || name.Length > MaxSystemNameLength)
        {
            return ApiResults.Problem(400, "Invalid name", $"name must be 1 to {MaxSystemNameLength} characters.");
        }

        var role = body!.Role?.Trim().ToLowerInvariant();
        if (role is not null && !Roles.Contains(role))
        {
            return ApiResults.Problem(400, "Invalid role", "role must be developer, provider, deployer or user.");
        }

        if (body.Purpose is { Length: > 2000 } || body.Provider is { Length: > MaxSystemNameLength })
        {
            return ApiResults.Problem(400, "Too long", $"purpose is limited to 2000 characters and provider to {MaxSystemNameLength}.");
        }

        var id = AiSystemInventoryBuilder.IdOf(name);
        var systems = await evidence.Inventory.ListAsync(ct).ConfigureAwait(false);
        if (systems.Any(s => s.Id == id))
        {
            return ApiResults.Problem(409, "Already listed", $"the inventory already has a system named like '{name}' ({id}).");
        }

        if (evidence.Inventory.Edits is not { } store)
        {
            return ApiResults.Problem(501, "Not supported", "this host's store keeps no inventory edits.");
        }

        await store.AddAiSystemEditAsync(
            new AiSystemEdit { Action = AiSystemEditActions.Add, SystemId = id, Name = name, Purpose = body.Purpose?.Trim(), Provider = body.Provider?.Trim(), Role = role, Actor = actor },
            ct).ConfigureAwait(false);
        var after = await evidence.Inventory.ListAsync(ct).ConfigureAwait(false);
        return Results.Created($"{Prefix}/ai-systems/{id}", AiSystemView.From(after.First(s => s.Id == id)));
    }

    private static Task<IResult> ListAiSystems(HttpContext context, EvidenceService evidence, CancellationToken ct) => ListAiSystemsAsync(context, evidence, ct);

    private static Task<IResult> GetAiSystem(HttpContext context, EvidenceService evidence, string id, CancellationToken ct) => GetAiSystemAsync(context, evidence, id, ct);

    private static Task<IResult> EditAiSystem(HttpContext context, EvidenceService evidence, string id, AiSystemEditRequest? body, CancellationToken ct) =>
        EditAiSystemAsync(evidence, id, body, Actor(context.User), ct);

    private static Task<IResult> AddAiSystem(HttpContext context, EvidenceService evidence, AiSystemAddRequest? body, CancellationToken ct) =>
        AddAiSystemAsync(evidence, body, Actor(context.User), ct);
}
