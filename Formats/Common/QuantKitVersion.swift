/// The release this build belongs to: `quantkit --version`, and the tool version a batch records
/// in each result's provenance (a new release re-runs finished jobs).
public enum QuantKitVersion {
    public static let current = "0.1.0"
}
