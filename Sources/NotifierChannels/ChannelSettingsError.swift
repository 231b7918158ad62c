/// A provider or webhook setting that cannot work, with what to change.
public struct ChannelSettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The provider or endpoint the setting belongs to.
    public var channel: String
    /// The setting at fault, e.g. `body.to` or `url`.
    public var setting: String
    public var message: String

    public init(channel: String, setting: String, message: String) {
        self.channel = channel
        self.setting = setting
        self.message = message
    }

    public var description: String { "\(channel): \(setting): \(message)" }
}
