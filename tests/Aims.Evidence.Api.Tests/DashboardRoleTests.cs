using Aims.Evidence.Core.Storage;
using Microsoft.Playwright;

namespace Aims.Evidence.Api.Tests;

/// <summary>
/// The dashboard in headless Chromium against `aims serve` (Kestrel on 127.0.0.1): it asks <c>GET /api/v1/me</c> for
/// the key's role and shows review and owner controls only to a reviewer (or admin) key, and it says why 74 cells
/// give 70 counted entries.
/// </summary>
[Trait(Tiers.Name, Tiers.Slow)]
public sealed class DashboardRoleTests(ServerFixture fx) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task A_reader_key_sees_no_review_or_owner_controls_a_reviewer_key_does_and_the_counted_entries_are_explained()
    {
        HeadlessChromium.Require();
        var reader = (await fx.Aims.Store.CreateApiKeyAsync(ApiRole.Reader, "test", TestContext.Current.CancellationToken)).Key;

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright);

        // A suggestion awaiting review, found with the reviewer's page; then the same entry seen by each key.
        string? id = null;
        foreach (var (key, canReview) in new[] { (fx.ReviewerKey, true), (reader, false) })
        {
            var page = await browser.NewPageAsync();
            await page.GotoAsync(fx.Url + "/");
            await page.FillAsync("#api-key", key);
            await page.ClickAsync("#key-form button[type=submit]");
            await Assertions.Expect(page.Locator("#heatmap .cell")).ToHaveCountAsync(74);
            await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-role", canReview ? "reviewer" : "reader");
            await Assertions.Expect(page.Locator("#overall")).ToContainTextAsync("of 70 entries counted");
            await Assertions.Expect(page.Locator("#overall-why")).ToContainTextAsync("74 cells, 70 counted: 4 are grouping clauses (dashed)");
            await Assertions.Expect(page.Locator("#heatmap .cell.container")).ToHaveCountAsync(4);

            if (id is null)
            {
                foreach (var cell in await page.Locator("#heatmap .cell:not(.container)[data-status=weak], #heatmap .cell:not(.container)[data-status=suggested]").AllAsync())
                {
                    await cell.ClickAsync();
                    await Assertions.Expect(page.Locator("#detail")).ToBeVisibleAsync();
                    await Assertions.Expect(page.Locator("#detail-title")).ToContainTextAsync((await cell.GetAttributeAsync("data-id"))!);
                    if (await page.Locator("#detail-evidence button.accept").CountAsync() > 0)
                    {
                        id = await cell.GetAttributeAsync("data-id");
                        break;
                    }
                }

                Assert.NotNull(id);
            }
            else
            {
                await page.Locator($"#heatmap .cell[data-id='{id}']").ClickAsync();
                await Assertions.Expect(page.Locator("#detail-title")).ToContainTextAsync(id);
            }

            // The same unreviewed suggestions are listed for both keys; only the reviewer gets the buttons and the owner form.
            await Assertions.Expect(page.Locator("#detail-evidence .meta", new() { HasTextString = "review: unreviewed" }).First).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("#detail-evidence button.accept")).ToHaveCountAsync(canReview ? await page.Locator("#detail-evidence .meta", new() { HasTextString = "review: unreviewed" }).CountAsync() : 0);
            await Assertions.Expect(page.Locator("#detail-evidence button.reject")).ToHaveCountAsync(canReview ? await page.Locator("#detail-evidence button.accept").CountAsync() : 0);
            await Assertions.Expect(page.Locator("#detail-evidence button.polarity")).ToHaveCountAsync(canReview ? await page.Locator("#detail-evidence button.accept").CountAsync() : 0);
            if (canReview)
            {
                await Assertions.Expect(page.Locator("#owner-form")).ToBeVisibleAsync();
                await Assertions.Expect(page.Locator("#key-state")).ToHaveTextAsync("reviewer key in use (this tab only)");
            }
            else
            {
                await Assertions.Expect(page.Locator("#owner-form")).ToBeHiddenAsync();
                await Assertions.Expect(page.Locator("#key-state")).ToHaveTextAsync("reader key in use (this tab only): read-only, review and owner controls hidden");
            }

            await page.CloseAsync();
        }
    }

    [Fact]
    public async Task The_inventory_lists_the_systems_with_citations_and_only_a_reviewer_can_confirm_or_add()
    {
        HeadlessChromium.Require();
        var ct = TestContext.Current.CancellationToken;
        var reader = (await fx.Aims.Store.CreateApiKeyAsync(ApiRole.Reader, "test", ct)).Key;
        var systems = await fx.Aims.Evidence.Inventory.ListAsync(ct);
        var card = Assert.Single(systems, s => s.Name == "CPS-2 Credit Pre-Screening Model");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright);
        foreach (var (key, canEdit) in new[] { (reader, false), (fx.ReviewerKey, true) })
        {
            var page = await browser.NewPageAsync();
            await page.GotoAsync(fx.Url + "/");
            await page.FillAsync("#api-key", key);
            await page.ClickAsync("#key-form button[type=submit]");
            var row = page.Locator($"#ai-systems tr[data-id='{card.Id}']");
            await Assertions.Expect(row).ToContainTextAsync(card.Name);
            await Assertions.Expect(row.Locator(".cite").First).ToHaveTextAsync(card.Citations[0].Citation);
            await Assertions.Expect(page.Locator("#ai-systems tbody tr")).ToHaveCountAsync((await fx.Aims.Evidence.Inventory.ListAsync(ct)).Count);
            if (!canEdit)
            {
                await Assertions.Expect(row.Locator("button.ai-confirm")).ToBeHiddenAsync();
                await Assertions.Expect(page.Locator("#ai-system-add")).ToBeHiddenAsync();
                await page.CloseAsync();
                continue;
            }

            await row.Locator("button.ai-confirm").ClickAsync();
            await Assertions.Expect(row.Locator(".badge.covered")).ToHaveTextAsync("confirmed");
            await page.FillAsync("#ai-system-name", "Dashboard Added Tool");
            await page.ClickAsync("#ai-system-add button[type=submit]");
            await Assertions.Expect(page.Locator("#ai-systems tbody tr", new() { HasTextString = "Dashboard Added Tool" })).ToHaveCountAsync(1);
            await page.CloseAsync();
        }

        var after = await fx.Aims.Evidence.Inventory.ListAsync(ct);
        Assert.True(after.Single(s => s.Id == card.Id).Confirmed);
        Assert.Equal("manual", after.Single(s => s.Name == "Dashboard Added Tool").Source);
    }

    [Fact]
    public async Task A_reviewer_merges_two_systems_and_splits_a_document_out_again_in_the_dashboard()
    {
        HeadlessChromium.Require();
        var ct = TestContext.Current.CancellationToken;
        var systems = await fx.Aims.Evidence.Inventory.ListAsync(ct);
        var card = Assert.Single(systems, s => s.Name == "CPS-2 Credit Pre-Screening Model");
        var cardDocuments = card.Citations.Select(c => c.DocumentName).ToHashSet(StringComparer.Ordinal);
        var other = systems.First(s => s.Id != card.Id && s.Citations.Count > 0 && s.Citations.All(c => !cardDocuments.Contains(c.DocumentName)));
        var otherDocument = other.Citations[0].DocumentName;

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        await page.GotoAsync(fx.Url + "/");
        await page.FillAsync("#api-key", fx.ReviewerKey);
        await page.ClickAsync("#key-form button[type=submit]");

        // Merge: the other system's row goes, the card's row cites its document too.
        var otherRow = page.Locator($"#ai-systems tr[data-id='{other.Id}']");
        await otherRow.Locator("button.ai-merge").ClickAsync();
        await page.Locator($"#ai-systems tr.ai-editor[data-for='{other.Id}'] select.ai-merge-target").SelectOptionAsync(card.Id);
        await page.ClickAsync($"#ai-systems tr.ai-editor[data-for='{other.Id}'] button.ai-merge-ok");
        await Assertions.Expect(otherRow).ToHaveCountAsync(0);
        var merged = (await fx.Aims.Evidence.Inventory.ListAsync(ct)).Single(s => s.Id == card.Id);
        Assert.Contains(merged.Citations, c => c.DocumentName == otherDocument);
        Assert.Contains(other.Name, merged.Aliases);

        // Split: the document moves to a new system; the form refuses a split without a name first.
        var cardRow = page.Locator($"#ai-systems tr[data-id='{card.Id}']");
        await cardRow.Locator("button.ai-split").ClickAsync();
        var editor = page.Locator($"#ai-systems tr.ai-editor[data-for='{card.Id}']");
        await editor.Locator($".ai-split-doc input[value='{otherDocument}']").CheckAsync();
        await editor.Locator("button.ai-split-ok").ClickAsync();
        await Assertions.Expect(page.Locator("#message")).ToContainTextAsync("Name the new system");
        await editor.Locator("input.ai-split-name").FillAsync("Split Out System");
        await editor.Locator("button.ai-split-ok").ClickAsync();
        await Assertions.Expect(page.Locator("#ai-systems tbody tr", new() { HasTextString = "Split Out System" })).ToHaveCountAsync(1);

        var after = await fx.Aims.Evidence.Inventory.ListAsync(ct);
        Assert.DoesNotContain(after.Single(s => s.Id == card.Id).Citations, c => c.DocumentName == otherDocument);
        Assert.All(after.Single(s => s.Name == "Split Out System").Citations, c => Assert.Equal(otherDocument, c.DocumentName));
    }
}
