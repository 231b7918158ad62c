import Foundation
import LiaisonSchema
import Notifier
import XCTest

final class TemplateCatalogTests: XCTestCase {
    func testTheRepositoryCatalogLoadsAndCoversTheDefaultPack() throws {
        let catalog = try TemplateFixtures.defaultCatalog()
        let pack = try TemplateFixtures.defaultPackPayloadNames()
        XCTAssertEqual(Set(catalog.templateNames), Set(pack.keys))
        XCTAssertEqual(Set(TemplateFixtures.typicalPayloads.keys), Set(pack.keys))

        for (template, payloadNames) in pack {
            let typical = try TemplateFixtures.object(try XCTUnwrap(TemplateFixtures.typicalPayloads[template]))
            XCTAssertEqual(Set(typical.keys), payloadNames, "the typical payload of \(template) differs from the pack's")
            let unknown = catalog.valueNames(of: template).subtracting(payloadNames).subtracting(["customerId", "recipient"])
            XCTAssertEqual(unknown, [], "\(template) reads values its rule's payload does not have")
        }
    }

    func testCustomerTemplatesOfferEveryChannelInEnglishGermanAndChinese() throws {
        let catalog = try TemplateFixtures.defaultCatalog()
        for template in catalog.templateNames where template.hasPrefix("offer.") || template.hasPrefix("service.") {
            let variants = catalog.variants(of: template)
            for channel in [Channel.email, .sms, .push, .inbox] {
                let locales = Set(variants.filter { $0.channel == channel && $0.segment == nil && $0.device == nil }.map(\.locale))
                XCTAssertEqual(locales, ["en", "de", "zh"], "\(template) \(channel.rawValue)")
            }
            if template.hasPrefix("offer.") {
                let segments = Set(variants.filter { $0.locale == "en" }.compactMap(\.segment))
                XCTAssertEqual(segments, [.younger, .older], template)
            }
        }
        for template in ["agent.mortgage-advisor-open-house", "agent.feedback-callback", "agent.churn-warning"] {
            XCTAssertTrue(catalog.channels(of: template).contains(.agentTask), template)
        }
        for template in ["behaviour.changed", "crm.invoice-paid"] {
            XCTAssertTrue(catalog.channels(of: template).contains(.crm), template)
        }
        XCTAssertTrue(catalog.variants(of: "offer.cd-30-day").contains { $0.channel == .push && $0.device == .tablet })
    }

    func testEveryVariantRendersWithAndWithoutANameAndLeavesNoTags() throws {
        let catalog = try TemplateFixtures.defaultCatalog()
        var rendered = 0
        for template in catalog.templateNames {
            for name in ["Alex Morgan", nil] as [String?] {
                let values = try TemplateFixtures.values(for: template, name: name)
                for variant in catalog.variants(of: template) {
                    let message = try TemplateFixtures.render(catalog, variant, values: values)
                    XCTAssertEqual(message.variant, variant.id)
                    XCTAssertEqual(message.locale, variant.locale)
                    let parts = [message.subject, message.text, message.html].compactMap { $0 }
                    for part in parts {
                        XCTAssertFalse(part.contains("{{") || part.contains("}}"), "\(variant.id) left a tag: \(part)")
                        XCTAssertFalse(part.contains("  "), "\(variant.id) has a double space, likely an empty value: \(part)")
                    }
                    XCTAssertEqual(message.subject == nil, variant.channel == .sms, variant.id)
                    XCTAssertEqual(message.html != nil, variant.channel == .email, variant.id)
                    if let html = message.html {
                        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>") && html.hasSuffix("</html>"), variant.id)
                    }
                    if name == nil, variant.locale == "en", variant.channel == .email {
                        XCTAssertFalse(message.text.contains("Alex"), variant.id)
                    }
                    rendered += 1
                }
            }
        }
        XCTAssertGreaterThan(rendered, 200)
    }

    func testRenderedTextsShowTheValuesFormattedForTheLocale() throws {
        let catalog = try TemplateFixtures.defaultCatalog()
        let cd = try TemplateFixtures.values(for: "offer.cd-30-day")
        let english = try catalog.render(template: "offer.cd-30-day", channel: .push, locale: "en-US", segment: nil, device: .phone, values: cd)
        XCTAssertEqual(english.subject, "Your spare cash could earn more")
        XCTAssertEqual(english.text, "Move USD 12,000 into a 30-day CD at a fixed rate.")
        let german = try catalog.render(template: "offer.cd-30-day", channel: .push, locale: "de-DE", segment: nil, device: nil, values: cd)
        XCTAssertEqual(german.text, "Legen Sie 12.000 USD für 30 Tage als Festgeld zum festen Zins an.")
        let swiss = try catalog.render(template: "offer.cd-30-day", channel: .push, locale: "de-CH", segment: nil, device: nil, values: cd)
        XCTAssertEqual(swiss.text, "Legen Sie 12'000 USD für 30 Tage als Festgeld zum festen Zins an.")

        let trip = try TemplateFixtures.values(for: "service.checkin-reminder")
        let sms = try catalog.render(template: "service.checkin-reminder", channel: .sms, locale: "de", segment: nil, device: nil, values: trip)
        XCTAssertEqual(
            sms.text,
            "Check-in geöffnet: Flug LH716 FRA-HND am 3. Nov. um 07:05 Uhr Ortszeit. Jetzt in der App einchecken. Buchung BK7Q2M"
        )
        let chinese = try catalog.render(template: "service.checkin-reminder", channel: .push, locale: "zh-CN", segment: nil, device: nil, values: trip)
        XCTAssertEqual(chinese.subject, "航班 LH716 已开放值机")
        XCTAssertEqual(chinese.text, "当地时间 11月3日 07:05 从 FRA 飞往 HND。请立即办理值机。")

        let deposit = try TemplateFixtures.values(for: "service.check-deposit-received")
        let email = try catalog.render(
            template: "service.check-deposit-received", channel: .email, locale: "en", segment: nil, device: nil, values: deposit
        )
        XCTAssertEqual(email.subject, "We received your check deposit of USD 1,250.00")
        XCTAssertTrue(email.text.hasPrefix("Hello Alex Morgan,\n\nWe received the check"), email.text)
        XCTAssertTrue(email.text.contains("Amount: USD 1,250.00\nAccount: chk-42\nReference: dep-20261102-0042"), email.text)
        XCTAssertTrue(try XCTUnwrap(email.html).contains("<p>Amount: USD 1,250.00<br>\nAccount: chk-42<br>"))

        let churn = try TemplateFixtures.values(for: "agent.churn-warning")
        let task = try catalog.render(template: "agent.churn-warning", channel: .agentTask, locale: "en", segment: nil, device: nil, values: churn)
        XCTAssertEqual(task.subject, "Churn risk 78%: platinum customer cust-42")
        XCTAssertTrue(
            task.text.contains(
                """
                What lies behind it:
                - sentiment of their latest feedback: -0.55 (from -1 to 1)
                - open cases: 2, the oldest open for 19 days
                - activity against their 90-day baseline: -2.4 standard deviations

                Please get in touch
                """
            ), task.text
        )
    }

    // MARK: - The fallback chain

    func testARegionalLocaleFallsBackToItsLanguageAndAnUnknownOneToEnglish() throws {
        let catalog = try TemplateFixtures.defaultCatalog()
        let values = try TemplateFixtures.values(for: "service.case-resolved")
        func variant(_ locale: String?) throws -> (String, String) {
            let message = try catalog.render(template: "service.case-resolved", channel: .sms, locale: locale, segment: nil, device: nil, values: values)
            return (message.variant, message.locale)
        }
        XCTAssertTrue(try variant("de-CH") == ("service.case-resolved/sms.de.yaml", "de"))
        XCTAssertTrue(try variant("de_AT") == ("service.case-resolved/sms.de.yaml", "de"))
        XCTAssertTrue(try variant("DE") == ("service.case-resolved/sms.de.yaml", "de"))
        XCTAssertTrue(try variant("zh-Hans-CN") == ("service.case-resolved/sms.zh.yaml", "zh"))
        XCTAssertTrue(try variant("fr-FR") == ("service.case-resolved/sms.en.yaml", "en"))
        XCTAssertTrue(try variant(nil) == ("service.case-resolved/sms.en.yaml", "en"))
        XCTAssertTrue(try variant("not a locale") == ("service.case-resolved/sms.en.yaml", "en"))
        XCTAssertTrue(try variant("en-GB") == ("service.case-resolved/sms.en.yaml", "en"))
    }

    func testSegmentAndDeviceVariantsAreChosenWhenPresentAndDroppedWhenNot() throws {
        let catalog = try TemplateFixtures.defaultCatalog()
        let values = try TemplateFixtures.values(for: "offer.cd-30-day")
        func variant(_ locale: String, _ generation: String?, _ device: DeviceKind?) throws -> String {
            try catalog.render(
                template: "offer.cd-30-day", channel: .push, locale: locale, segment: SegmentV1(tier: .gold, generation: generation),
                device: device, values: values
            ).variant
        }
        XCTAssertEqual(try variant("en", nil, nil), "offer.cd-30-day/push.en.yaml")
        XCTAssertEqual(try variant("en", nil, .phone), "offer.cd-30-day/push.en.yaml")
        XCTAssertEqual(try variant("en", nil, .tablet), "offer.cd-30-day/push.tablet.en.yaml")
        XCTAssertEqual(try variant("en", "millennial", nil), "offer.cd-30-day/push.younger.en.yaml")
        XCTAssertEqual(try variant("en", "gen-z", .phone), "offer.cd-30-day/push.younger.en.yaml")
        XCTAssertEqual(try variant("en", "silent", .phone), "offer.cd-30-day/push.older.en.yaml")
        XCTAssertEqual(try variant("en", "gen-x", .tablet), "offer.cd-30-day/push.older.en.yaml")
        XCTAssertEqual(try variant("en", "unheard-of", .tablet), "offer.cd-30-day/push.tablet.en.yaml")
        XCTAssertEqual(try variant("de-AT", "gen-z", nil), "offer.cd-30-day/push.younger.de.yaml")
        XCTAssertEqual(try variant("de", "boomer", .tablet), "offer.cd-30-day/push.tablet.de.yaml")
        XCTAssertEqual(try variant("de", "boomer", .phone), "offer.cd-30-day/push.de.yaml")
        XCTAssertEqual(try variant("zh", "gen-z", .tablet), "offer.cd-30-day/push.tablet.zh.yaml")
        XCTAssertEqual(try variant("fr", "gen-z", nil), "offer.cd-30-day/push.younger.en.yaml")

        let tablet = try catalog.render(
            template: "offer.cd-30-day", channel: .push, locale: "en", segment: nil, device: .tablet, values: values
        )
        let phone = try catalog.render(template: "offer.cd-30-day", channel: .push, locale: "en", segment: nil, device: .phone, values: values)
        XCTAssertGreaterThan(tablet.text.count, phone.text.count * 2)
    }

    func testAGenerationBandsOwnVariantBeatsItsGroupAndTheGroupBeatsTheDevice() throws {
        let files = [
            "t/push.en.yaml": "subject: plain\ntext: plain",
            "t/push.tablet.en.yaml": "subject: tablet\ntext: tablet",
            "t/push.older.en.yaml": "subject: older\ntext: older",
            "t/push.boomer.en.yaml": "subject: boomer\ntext: boomer",
            "t/push.boomer.tablet.en.yaml": "subject: boomer tablet\ntext: boomer tablet",
        ]
        let catalog = try TemplateCatalog(files: files)
        func chosen(_ generation: String, _ device: DeviceKind?) throws -> String {
            try catalog.render(
                template: "t", channel: .push, locale: "en", segment: SegmentV1(generation: generation), device: device, values: JSONObject()
            ).text
        }
        XCTAssertEqual(try chosen("boomer", .tablet), "boomer tablet")
        XCTAssertEqual(try chosen("boomer", .phone), "boomer")
        XCTAssertEqual(try chosen("silent", .tablet), "older")
        XCTAssertEqual(try chosen("gen-z", .tablet), "tablet")
        XCTAssertEqual(try chosen("gen-z", nil), "plain")
    }

    func testAChannelOrTemplateTheCatalogLacksIsATypedError() throws {
        let catalog = try TemplateFixtures.defaultCatalog()
        let values = try TemplateFixtures.values(for: "agent.churn-warning")
        XCTAssertThrowsError(
            try catalog.render(template: "agent.churn-warning", channel: .sms, locale: "en", segment: nil, device: nil, values: values)
        ) { error in
            XCTAssertEqual(error as? TemplateRenderError, .noVariantForChannel(template: "agent.churn-warning", channel: .sms))
            XCTAssertEqual((error as? TemplateRenderError)?.reasonCode, "template_channel_missing")
            XCTAssertEqual("\(error)", "the template 'agent.churn-warning' has no variant for the channel sms")
        }
        XCTAssertThrowsError(
            try catalog.render(template: "offer.unheard-of", channel: .email, locale: "en", segment: nil, device: nil, values: values)
        ) { error in
            XCTAssertEqual(error as? TemplateRenderError, .unknownTemplate("offer.unheard-of"))
            XCTAssertEqual((error as? TemplateRenderError)?.reasonCode, "template_unknown")
        }
    }

    func testAPartThatRendersEmptyIsAnError() throws {
        let catalog = try TemplateCatalog(files: ["t/sms.en.yaml": "text: \"{{code}}\""])
        do {
            _ = try catalog.render(template: "t", channel: .sms, locale: "en", segment: nil, device: nil, values: JSONObject())
            XCTFail("rendered an empty SMS")
        } catch {
            XCTAssertEqual(error, .emptyPart(variant: "t/sms.en.yaml", part: "text"))
            XCTAssertEqual(error.reasonCode, "template_rendered_empty")
        }
        let filled = try catalog.render(
            template: "t", channel: .sms, locale: "en", segment: nil, device: nil, values: try TemplateFixtures.object(#"{"code": 4711}"#)
        )
        XCTAssertEqual(filled.text, "4711")
    }

    // MARK: - Escaping and values

    func testValuesAreEscapedInHTMLAndVerbatimEverywhereElse() throws {
        let catalog = try TemplateFixtures.defaultCatalog()
        let script = "<script>alert(\"x\")</script> O'Brien & Söhne"
        let values = try TemplateFixtures.values(for: "offer.cd-30-day", name: script)
        let email = try catalog.render(template: "offer.cd-30-day", channel: .email, locale: "en", segment: nil, device: nil, values: values)
        let html = try XCTUnwrap(email.html)
        XCTAssertTrue(html.contains("<p>Hello &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; O&#39;Brien &amp; Söhne,</p>"), html)
        XCTAssertFalse(html.contains("<script>"))
        XCTAssertTrue(email.text.hasPrefix("Hello \(script),\n"), email.text)

        var resolved = try TemplateFixtures.values(for: "service.case-resolved")
        resolved["topic"] = .string(script)
        let sms = try catalog.render(template: "service.case-resolved", channel: .sms, locale: "en", segment: nil, device: nil, values: resolved)
        XCTAssertTrue(sms.text.contains("(\(script))"), sms.text)
        let mail = try catalog.render(template: "service.case-resolved", channel: .email, locale: "de", segment: nil, device: nil, values: resolved)
        XCTAssertTrue(mail.text.contains("(\(script))"), mail.text)
        XCTAssertTrue(try XCTUnwrap(mail.html).contains("(&lt;script&gt;"), mail.html ?? "")
        let push = try catalog.render(template: "service.case-resolved", channel: .push, locale: "en", segment: nil, device: nil, values: resolved)
        XCTAssertTrue(push.text.contains(script))

        let subjectValues = try TemplateFixtures.object(#"{"caseId": "<b>&", "topic": "x"}"#)
        let subject = try catalog.render(
            template: "service.case-resolved", channel: .email, locale: "en", segment: nil, device: nil, values: subjectValues
        )
        XCTAssertEqual(subject.subject, "Your case <b>& has been resolved")
    }

    func testJSONValuesRenderAsTheirJSONReads() throws {
        let template = """
            text: |-
              plain {{small}} {{large}} {{exact}} {{negative}} {{integer}}
              grouped {{grouped(large)}} {{grouped(exact)}} {{grouped(integer)}} {{grouped(negative)}}
              money {{money(exact)}} {{money(half)}} {{money(integer)}}
              rounded {{rounded(negative)}} {{rounded(integer)}} {{rounded(half)}}
              percent {{percent(share)}}
              {{#yes}}yes{{/yes}}{{^no}} not no{{/no}}{{^nothing}} null is false{{/nothing}}{{^empty}} empty is false{{/empty}}
              {{#items}}[{{name}}]{{/items}}{{^none}} no items{{/none}}
              {{account.id}} {{#account}}{{type}}{{/account}}
              {{#label}}{{text}}{{/label}} {{uppercased(label)}}
              {{date(at)}} {{dateWithYear(at)}} {{time(at)}} [{{date(label)}}]
            """
        let values = try TemplateFixtures.object(
            #"""
            {"small": 2.5E-3, "large": 1.5e6, "exact": 1234567.125, "negative": -0.625, "integer": 1000, "half": 2.005,
             "share": 0.785, "yes": true, "no": false, "nothing": null, "empty": "", "items": [{"name": "a"}, {"name": "b"}],
             "none": [], "account": {"id": "chk-42", "type": "checking"}, "label": "tag", "text": "from the top",
             "at": "2026-11-03T07:05:00+09:00"}
            """#
        )
        let catalog = try TemplateCatalog(files: ["t/sms.en.yaml": template, "t/sms.de.yaml": template])
        let english = try catalog.render(template: "t", channel: .sms, locale: "en", segment: nil, device: nil, values: values).text
        XCTAssertEqual(
            english.split(separator: "\n").map(String.init),
            [
                "plain 0.0025 1500000 1234567.125 -0.625 1000",
                "grouped 1,500,000 1,234,567.125 1,000 -0.625",
                "money 1,234,567.13 2.01 1,000.00",
                "rounded -0.63 1,000 2.01",
                "percent 79",
                "yes not no null is false empty is false",
                "[a][b] no items",
                "chk-42 checking",
                "from the top TAG",
                "Nov 3 Nov 3, 2026 7:05 AM []",
            ]
        )
        let swiss = try catalog.render(template: "t", channel: .sms, locale: "de-CH", segment: nil, device: nil, values: values).text
        XCTAssertTrue(swiss.contains("grouped 1'500'000 1'234'567.125 1'000 -0.625"), swiss)
        XCTAssertTrue(swiss.contains("money 1'234'567.13 2.01 1'000.00"), swiss)
        XCTAssertTrue(swiss.contains("07:05"), swiss)
        let german = try catalog.render(template: "t", channel: .sms, locale: "de", segment: nil, device: nil, values: values).text
        XCTAssertTrue(german.contains("money 1.234.567,13 2,01 1.000,00"), german)
        XCTAssertTrue(german.contains("3. Nov. 3. Nov. 2026 07:05 []"), german)
    }

    func testActionValuesAddTheCustomerAndRecipientWithoutOverridingThePayload() throws {
        let values = try TemplateFixtures.values(for: "offer.retention")
        XCTAssertEqual(values["tier"], .string("gold"))
        XCTAssertEqual(values["customerId"], .string("cust-42"))
        XCTAssertEqual(values["recipient"]?["name"], .string("Alex Morgan"))
        let anonymous = try TemplateFixtures.values(for: "offer.retention", name: nil)
        XCTAssertEqual(anonymous["recipient"], .object(JSONObject()))
    }
}
