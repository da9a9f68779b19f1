using Aims.Evidence.Azure.Tables;
using Aims.Evidence.Azure.Tests.Infrastructure;
using Aims.Evidence.Core.Inventory;

namespace Aims.Evidence.Azure.Tests;

/// <summary>Reviewer edits of the AI-system inventory in Table Storage (Azurite): kept in order, audited, read back by a new store.</summary>
[Trait(Tiers.Name, Tiers.Slow)]
public sealed class TableAiSystemEditsTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Edits_are_kept_in_order_audited_and_applied_over_the_derived_systems()
    {
        azurite.Require();
        var ct = TestContext.Current.CancellationToken;
        var prefix = AzuriteFixture.UniquePrefix();
        var store = new TableEvidenceStore(azurite.Tables(), prefix);
        await store.InitializeAsync(ct);

        var a = AiSystemInventoryBuilder.IdOf("Alpha Scanner");
        var b = AiSystemInventoryBuilder.IdOf("Beta Scanner");
        await store.AddAiSystemEditAsync(new AiSystemEdit { Action = AiSystemEditActions.Add, SystemId = a, Name = "Alpha Scanner", Actor = "rev-1" }, ct);
        await store.AddAiSystemEditAsync(new AiSystemEdit { Action = AiSystemEditActions.Add, SystemId = b, Name = "Beta Scanner", Purpose = "scans", Actor = "rev-1" }, ct);
        await store.AddAiSystemEditAsync(new AiSystemEdit { Action = AiSystemEditActions.Rename, SystemId = a, Name = "Alpha Scanner 2", Actor = "rev-2" }, ct);
        await store.AddAiSystemEditAsync(new AiSystemEdit { Action = AiSystemEditActions.Merge, SystemId = a, TargetId = b, Actor = "rev-2" }, ct);

        // A new store over the same tables reads the same edits, oldest first; the inventory applies them.
        var reopened = new TableEvidenceStore(azurite.Tables(), prefix);
        var edits = await reopened.ListAiSystemEditsAsync(ct);
        Assert.Equal(["add", "add", "rename", "merge"], edits.Select(e => e.Action));
        Assert.Equal(b, edits[3].TargetId);
        var systems = await new AiSystemInventory(reopened).ListAsync(ct);
        var merged = Assert.Single(systems);
        Assert.Equal(("Beta Scanner", "scans", "manual"), (merged.Name, merged.Purpose, merged.Source));
        Assert.Equal(["Alpha Scanner 2", "Alpha Scanner"], merged.Aliases);

        var audit = (await reopened.ListAuditAsync(0, 100, ct)).Where(e => e.Action.StartsWith("aisystem.", StringComparison.Ordinal)).ToArray();
        Assert.Equal(["aisystem.add", "aisystem.add", "aisystem.rename", "aisystem.merge"], audit.Select(e => e.Action));
        Assert.Equal(["rev-1", "rev-1", "rev-2", "rev-2"], audit.Select(e => e.Actor));
    }

    [Fact]
    public async Task An_LLM_suggestion_keeps_its_document_version_and_passages_and_counts_only_with_its_document()
    {
        azurite.Require();
        var ct = TestContext.Current.CancellationToken;
        var prefix = AzuriteFixture.UniquePrefix();
        var store = new TableEvidenceStore(azurite.Tables(), prefix);
        await store.InitializeAsync(ct);

        await store.AddAiSystemEditAsync(new AiSystemEdit
        {
            Action = AiSystemEditActions.Suggest, SystemId = AiSystemInventoryBuilder.IdOf("Quillmate Assistant"), Name = "Quillmate Assistant",
            Aliases = ["Quillmate"], Purpose = "drafts letters", Lifecycle = "pilot", RiskLevel = "low", DocumentId = "doc-v1",
            Documents = ["policy.md"], Passages = ["doc-v1-00002"], Actor = "llm:test-model",
        }, ct);

        var edit = Assert.Single(await new TableEvidenceStore(azurite.Tables(), prefix).ListAiSystemEditsAsync(ct));
        Assert.Equal(("suggest", "doc-v1", "pilot", "low", "llm:test-model"), (edit.Action, edit.DocumentId, edit.Lifecycle, edit.RiskLevel, edit.Actor));
        Assert.Equal(["doc-v1-00002"], edit.Passages);
        Assert.Equal(["Quillmate"], edit.Aliases);

        // Its document version is not in the store: the suggestion is not listed.
        Assert.Empty(await new AiSystemInventory(store).ListAsync(ct));
        Assert.Equal(["aisystem.suggest"], (await store.ListAuditAsync(0, 100, ct)).Where(e => e.Action.StartsWith("aisystem.", StringComparison.Ordinal)).Select(e => e.Action));
    }
}
