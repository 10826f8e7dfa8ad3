"""Writes tiny-unigram.model and reference-ids.jsonl for SentencePieceInputEncoderTests.

A small SentencePiece Unigram model trained on the titles and descriptions of the project's own samples (English and
Chinese), with SentencePiece's default nmt_nfkc normaliser, as XLM-R / multilingual-e5 use, and the ids the reference
implementation gives for a few texts. Run from the repository root (Debian: apt-get install python3-sentencepiece):
    /usr/bin/python3 tests/ProductSimilarity.Embeddings.Tests/Onnx/TestData/sentencepiece/make_fixture.py
"""
import csv, io, json, os
import sentencepiece as spm

here = os.path.dirname(os.path.abspath(__file__))
lines = []
for path in ["samples/catalog.csv", "samples/zh-eval/catalog.csv"]:
    with open(path, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            for field in ("title", "description"):
                if row.get(field):
                    lines.append(row[field])

spm.SentencePieceTrainer.train(
    sentence_iterator=iter(lines), model_prefix=os.path.join(here, "tiny-unigram"), model_type="unigram",
    vocab_size=1500, character_coverage=0.995, normalization_rule_name="nmt_nfkc", seed_sentencepiece_size=20000,
    input_sentence_size=0, shuffle_input_sentence=False, num_threads=1, minloglevel=2)
os.remove(os.path.join(here, "tiny-unigram.vocab"))

sp = spm.SentencePieceProcessor(model_file=os.path.join(here, "tiny-unigram.model"))
texts = [
    "Sony WF-1000XM5 Wireless Noise Cancelling Earbuds",
    "microsoft office 2007 home and student (3 user license)",
    "小米 Redmi Buds 5 Pro 真无线蓝牙耳机 包邮",
    "ＡＢＣ１２３ full-width letters and digits",
    "Café au lait mug, 350 ml, stoneware",
    "qwxz zzyzx unseen-words ☃",
    "",
    "a",
]
reference = [{"text": t, "ids": sp.encode(t)} for t in texts]
with open(os.path.join(here, "reference-ids.jsonl"), "w", encoding="utf-8") as f:
    f.write(json.dumps({"unk_id": sp.unk_id(), "bos_id": sp.bos_id(), "eos_id": sp.eos_id(), "vocab_size": sp.get_piece_size()}))
    f.write("\n")
    for r in reference:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
print(sp.get_piece_size(), [r["ids"][:8] for r in reference])
