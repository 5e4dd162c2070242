"""A draft's text as pages show it: paragraphs stay paragraphs, lists read as lists, bold as bold, all escaped."""

from markupsafe import Markup

from consult.consultations.guidance_text import guidance_html, guidance_plain

LIST = ("Offer the procedure only when:\n- the person has tried **conservative** care\n"
        "- the team includes a surgeon\n\nRecord the outcome.")


def test_a_list_reads_as_a_govuk_bulleted_list_between_its_paragraphs():
    assert guidance_html(LIST) == (
        '<p class="govuk-body">Offer the procedure only when:</p>'
        '<ul class="govuk-list govuk-list--bullet"><li>the person has tried <strong>conservative</strong> care</li>'
        '<li>the team includes a surgeon</li></ul>'
        '<p class="govuk-body">Record the outcome.</p>')


def test_every_bullet_the_importers_keep_starts_an_item_and_a_list_may_open_a_paragraph():
    assert guidance_html("* one\n• two\n- three") == (
        '<ul class="govuk-list govuk-list--bullet"><li>one</li><li>two</li><li>three</li></ul>')


def test_paragraphs_without_lists_read_as_before():
    text = "A thin probe is passed through the skin.\n\n\n\nThe nerve is frozen, 2 * 3 times."
    assert guidance_html(text) == ('<p class="govuk-body">A thin probe is passed through the skin.</p>'
                                   '<p class="govuk-body">The nerve is frozen, 2 * 3 times.</p>')
    assert guidance_html("") == "" and guidance_html("  \n\n ") == ""


def test_only_a_closed_pair_of_double_asterisks_around_words_is_bold():
    assert guidance_html("**Do not** offer it ** to ** children, or **") == (
        '<p class="govuk-body"><strong>Do not</strong> offer it ** to ** children, or **</p>')
    assert guidance_html("- **a** and **b**") == (
        '<ul class="govuk-list govuk-list--bullet"><li><strong>a</strong> and <strong>b</strong></li></ul>')


def test_nothing_written_in_a_draft_reaches_the_page_as_markup():
    text = ('<script>alert(1)</script> **<img src=x onerror=alert(1)>**\n- <b>bold?</b> & "quotes"\n\n'
            "<!--your-comments:section:1-->")
    shown = guidance_html(text)
    assert isinstance(shown, Markup)
    assert shown == (
        '<p class="govuk-body">&lt;script&gt;alert(1)&lt;/script&gt; '
        '<strong>&lt;img src=x onerror=alert(1)&gt;</strong></p>'
        '<ul class="govuk-list govuk-list--bullet"><li>&lt;b&gt;bold?&lt;/b&gt; &amp; &#34;quotes&#34;</li></ul>'
        '<p class="govuk-body">&lt;!--your-comments:section:1--&gt;</p>')


def test_the_plain_words_leave_out_the_marks_of_lists_and_bold():
    assert guidance_plain(LIST) == ("Offer the procedure only when:\n\nthe person has tried conservative care\n"
                                    "the team includes a surgeon\n\nRecord the outcome.")


def test_a_numbered_list_reads_as_a_govuk_numbered_list():
    """Markdown's '1. ice' items were joined into one line: 'Offer one of: 1. ice 2. heat 3. rest'."""
    text = "Offer one of:\n1. **ice**\n2. heat\n3) <rest>\n\nRecord the outcome."
    assert guidance_html(text) == (
        '<p class="govuk-body">Offer one of:</p>'
        '<ol class="govuk-list govuk-list--number"><li><strong>ice</strong></li><li>heat</li>'
        '<li>&lt;rest&gt;</li></ol>'
        '<p class="govuk-body">Record the outcome.</p>')
    # Selected in a browser, a list gives its items' words, not their numbers: a quote is matched on those.
    assert guidance_plain(text) == "Offer one of:\n\nice\nheat\n<rest>\n\nRecord the outcome."


def test_a_number_that_starts_no_list_stays_in_its_paragraph():
    for text in ("Pain fell in\n50. patients slept", "See\n2. a\n3. b"):
        assert guidance_html(text).startswith('<p class="govuk-body">') and "<ol" not in guidance_html(text)


def test_asterisks_written_in_a_draft_next_to_words_stay_as_written():
    """A Word draft's '(p<0.01**) and function improved (p<0.05**)' lost both pairs and drew the words
    between them in bold."""
    text = "Pain fell (p<0.01**) and function improved (p<0.05**)."
    assert guidance_html(text) == f'<p class="govuk-body">{text.replace("<", "&lt;")}</p>'
    assert guidance_plain(text) == text
    assert guidance_html("A **bold**, then (**also bold**).") == (
        '<p class="govuk-body">A <strong>bold</strong>, then (<strong>also bold</strong>).</p>')
