import ArgumentParser

@main
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantkit-bench",
        abstract: "Throughput and peak-memory benchmarks for QuantKit's hot paths (run with -c release).",
        subcommands: [FormatsBenchmark.self, CodecsBenchmark.self, RowDotBenchmark.self, InferenceBenchmark.self]
    )
}
