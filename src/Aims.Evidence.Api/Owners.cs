using System.Globalization;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Services;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Core.Tasks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Aims.Evidence.Api;

/// <param name="Owner">A name or e-mail address (at most 200 characters); null clears the owner.</param>
/// <param name="DueDate">When the entry's gap should be closed (yyyy-MM-dd); none: the default due date.</param>
public sealed record OwnerRequest(string? Owner, string? DueDate);

public sealed record OwnerView(string ControlId, string Owner, DateOnly? DueDate, string Actor, DateTimeOffset At)
{
    public static OwnerView From(EntryOwner o) => new(o.ControlId, o.Owner, o.DueDate, o.Actor, o.At);
}

/// <summary>The open tasks (or the overdue ones), with the counts of both.</summary>
public sealed record TaskList(int Open, int Overdue, IReadOnlyList<OwnerTask> Items);

/// <summary>Owners (<c>PUT|DELETE /controls/{id}/owner</c>) and tasks (<c>GET /tasks</c>), shared by both hosts.</summary>
public static partial class AimsEvidenceApi
{
    public const int MaxOwnerLength = 200;

    private static Task<IResult> SetOwner(HttpContext context, EvidenceService evidence, string id, OwnerRequest? body, CancellationToken ct) =>
        SetOwnerAsync(OwnerStore(context, evidence), evidence.Catalog, id, body, Actor(context.User), ct);

    private static Task<IResult> ClearOwner(HttpContext context, EvidenceService evidence, string id, CancellationToken ct) =>
        ClearOwnerAsync(OwnerStore(context, evidence), evidence.Catalog, id, Actor(context.User), ct);

    private static Task<IResult> GetTasks(EvidenceService evidence, TimeProvider time, IOptions<TaskOptions> options, string? status, CancellationToken ct) =>
        ListTasksAsync(evidence, time, options.Value, status, ct);

    private static IOwnerStore? OwnerStore(HttpContext context, EvidenceService evidence) =>
        context.RequestServices.GetService<IOwnerStore>() ?? evidence.Store as IOwnerStore;

    /// <summary>
    /// <c>PUT /controls/{id}/owner</c> in any host: checks the entry (a clause or Annex A control, not a container),
    /// the owner (1-200 characters) and the due date (yyyy-MM-dd, optional), records the owner (audited as
    /// <c>control.owner</c>) and answers with it; <c>{"owner":null}</c> clears it (204).
    /// </summary>
    public static async Task<IResult> SetOwnerAsync(IOwnerStore? store, IsoCatalog catalog, string id, OwnerRequest? body, string actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        if (!catalog.TryGetDecidable(id, out var decided))
        {
            return ApiResults.NotFound("control", id);
        }

        var entryId = decided.Id;

        if (body is null)
        {
            return ApiResults.Problem(400, "Invalid owner", "the body must be JSON: {\"owner\":\"name or e-mail\",\"dueDate\":\"yyyy-MM-dd\"}.");
        }

        if (body.Owner is null)
        {
            return body.DueDate is null
                ? await ClearOwnerAsync(store, catalog, id, actor, ct).ConfigureAwait(false)
                : ApiResults.Problem(400, "Owner required", "a dueDate needs an owner; {\"owner\":null} clears the owner.");
        }

        var owner = body.Owner.Trim();
        if (owner.Length == 0 || owner.Length > MaxOwnerLength)
        {
            return ApiResults.Problem(400, "Invalid owner", $"owner must be a name or e-mail address of 1 to {MaxOwnerLength} characters.");
        }

        DateOnly? due = null;
        if (body.DueDate is not null)
        {
            if (!DateOnly.TryParseExact(body.DueDate, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
            {
                return ApiResults.Problem(400, "Invalid due date", "dueDate must be a date as yyyy-MM-dd, e.g. 2027-03-31.");
            }

            due = parsed;
        }

        if (store is null)
        {
            return ApiResults.Problem(501, "Not supported", "this host's store keeps no owners.");
        }

        var record = await store.SetOwnerAsync(entryId, owner, due, actor, ct).ConfigureAwait(false);
        return Results.Ok(OwnerView.From(record));
    }

    /// <summary><c>DELETE /controls/{id}/owner</c> in any host: removes the entry's owner (audited when it had one); 204 either way.</summary>
    public static async Task<IResult> ClearOwnerAsync(IOwnerStore? store, IsoCatalog catalog, string id, string actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        if (!catalog.TryGetDecidable(id, out var decided))
        {
            return ApiResults.NotFound("control", id);
        }

        var entryId = decided.Id;

        if (store is null)
        {
            return ApiResults.Problem(501, "Not supported", "this host's store keeps no owners.");
        }

        await store.ClearOwnerAsync(entryId, actor, ct).ConfigureAwait(false);
        return Results.NoContent();
    }

    /// <summary><c>GET /tasks?status=open|overdue</c> in any host: the open tasks (default) or only the overdue ones.</summary>
    public static async Task<IResult> ListTasksAsync(EvidenceService evidence, TimeProvider time, TaskOptions? options, string? status, CancellationToken ct)
    {
        var overdueOnly = status?.Trim().ToLowerInvariant() switch
        {
            null or "" or "open" => false,
            "overdue" => true,
            _ => (bool?)null,
        };
        if (overdueOnly is null)
        {
            return ApiResults.Problem(400, "Invalid status", "status must be open or overdue.");
        }

        var tasks = await OwnerTasks.ListAsync(evidence, time, options, ct).ConfigureAwait(false);
        var overdue = tasks.Count(t => t.Overdue);
        return Results.Ok(new TaskList(tasks.Count, overdue, overdueOnly.Value ? tasks.Where(t => t.Overdue).ToArray() : tasks));
    }
}
