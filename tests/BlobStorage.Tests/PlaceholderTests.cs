namespace BlobStorage.Tests;

public class PlaceholderTests
{
    [Test]
    public void Works() => typeof(Placeholder).Should().NotBeNull();
}
