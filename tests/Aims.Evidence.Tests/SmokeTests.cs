using Aims.Evidence.Core.Catalog;

namespace Aims.Evidence.Tests;

public class SmokeTests
{
    [Fact]
    public void Catalog_loads_from_embedded_resource()
    {
        Assert.Equal(74, IsoCatalog.Default.Entries.Count);
    }
}
