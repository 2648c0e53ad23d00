namespace BlobStorage.Tests.Properties;

/// <summary>
/// Sequences the model-based test once found (shrunk by hand to their core), replayed on every
/// run so the bug they caught cannot come back unnoticed.
/// </summary>
[TestFixture]
public sealed class ModelRegressionTests
{
    private static readonly object[] Sequences =
    [
        new TestCaseData((object)new Op[]
        {
            new UploadOp(C: 1, N: 4, Content: 6, Meta: 0, Cond.None, ViaPipe: false),
            new DownloadOp(C: 1, N: 4, RangeKind.From, A: 53, B: 2, Cond.None),
            new OverwriteOp(Pick: 0, Content: 1, Meta: 2),
            new StatisticsOp(),
        }).SetArgDisplayNames("downloads then overwritten"),
        new TestCaseData((object)new Op[]
        {
            new UploadOp(C: 0, N: 0, Content: 5, Meta: 1, Cond.None, ViaPipe: true),
            new DownloadOp(C: 0, N: 0, RangeKind.Whole, A: 0, B: 0, Cond.None),
            new DeleteOp(C: 0, N: 0, Cond.IfMatchCurrent),
            new StatisticsOp(),
        }).SetArgDisplayNames("downloads then deleted"),
        new TestCaseData((object)new Op[]
        {
            new UploadOp(C: 0, N: 3, Content: 2, Meta: 2, Cond.None, ViaPipe: false),
            new DownloadOp(C: 0, N: 3, RangeKind.Last, A: 0, B: 1, Cond.None),
            new CopyOp(SrcC: 0, SrcN: 3, DstC: 0, DstN: 3, Cond.None),
            new ReopenOp(),
            new StatisticsOp(),
        }).SetArgDisplayNames("downloads then copied onto itself"),
    ];

    [TestCaseSource(nameof(Sequences))]
    public Task Replays_of_found_sequences_agree_with_the_model(Op[] ops) => new ModelRun(ops).RunAsync();
}
