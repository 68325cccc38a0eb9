"""The practice library (issue 16): organisations' submitted examples of trauma-informed practice,
reviewed, screened for personal data, tagged with an evidence level, published only with consent."""
