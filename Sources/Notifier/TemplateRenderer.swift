import LiaisonSchema

/// The template catalog as the planner sees it: an action rendered for one channel in the
/// customer's locale, tone and device, and an SMS refused when it would need more segments than
/// allowed, so the planner falls back to the next channel instead of sending a truncated text.
public struct TemplateRenderer: MessageRendering {
    public let catalog: TemplateCatalog
    public let maxSMSSegments: Int

    public init(catalog: TemplateCatalog, maxSMSSegments: Int) {
        self.catalog = catalog
        self.maxSMSSegments = maxSMSSegments
    }

    public func render(_ action: ActionV1, for channel: Channel) -> Result<RenderedMessage, ChannelRefusal> {
        let recipient = action.recipient
        do {
            let rendered = try catalog.render(
                template: action.template, channel: channel, locale: recipient?.locale,
                segment: SegmentV1(generation: recipient?.generation), device: recipient?.device,
                values: TemplateCatalog.values(for: action))
            if channel == .sms { _ = try SMSSegments.check(rendered.text, maximumSegments: maxSMSSegments) }
            return .success(rendered)
        } catch {
            return .failure(ChannelRefusal("\(error)"))
        }
    }
}
