#!/usr/bin/env python3
"""Builds samples/zh-eval (a Chinese product-matching evaluation set) from the hand-written list in products.py.

Two shops list the same products as shops do: a Taobao-style shop ("tb": Latin/Chinese brand pairs, promotional
noise, Latin units) and a JD-style shop ("jd": 品牌（BRAND）, different word order and wording, Chinese units,
sometimes full-width digits or Traditional characters, model codes written differently or left out). Siblings (the
same line with another model, size or capacity) are hard negatives; half of them are listed by both shops and are
true pairs of their own. Deterministic (fixed seed). Usage: scripts/zh-eval/generate.py [OUTDIR]
"""
import csv, os, random, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
exec(open(os.path.join(HERE, "products.py"), encoding="utf-8").read())

# Simplified -> Traditional with OpenCC's STCharacters.txt (first candidate), from the opencc package on the npm registry.
def load_s2t():
    import subprocess, tarfile, tempfile
    path = os.environ.get("OPENCC_STCHARACTERS")
    tmp = tempfile.mkdtemp()
    if not path:
        subprocess.run(["npm", "pack", "opencc@1.4.2"], cwd=tmp, check=True, capture_output=True)
        with tarfile.open(os.path.join(tmp, "opencc-1.4.2.tgz")) as t:
            t.extract("package/data/dictionary/STCharacters.txt", tmp)
        path = os.path.join(tmp, "package/data/dictionary/STCharacters.txt")
    table = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or "\t" not in line:
                continue
            s, t = line.rstrip("\n").split("\t", 1)
            t = t.split(" ")[0]
            if len(s) == 1 and t != s:
                table[s] = t
    return table

S2T = load_s2t()

def traditional(text):
    return "".join(S2T.get(c, c) for c in text)

def fullwidth_digits(text):
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() and c.isascii() else c for c in text)

CAT_A = {"audio": "数码影音 > 耳机音箱", "phone": "手机数码 > 手机配件", "computer": "电脑办公 > 电脑外设", "kitchen": "厨房电器 > 厨具",
         "personal care": "个护健康 > 个人护理", "beauty": "美妆护肤 > 护肤彩妆", "food": "食品饮料 > 休闲零食", "home": "家居家电 > 日用百货",
         "sports": "运动户外 > 运动装备"}
CAT_B = {"audio": "数码 > 影音娱乐", "phone": "手机通讯", "computer": "电脑、办公", "kitchen": "家用电器 > 厨房小电", "personal care": "个人护理",
         "beauty": "美妆", "food": "食品酒类", "home": "家居日用", "sports": "运动户外"}
NOISE_A_PRE = ["【官方正品】", "【包邮】", "2024新款", "官方旗舰店", "🔥热卖🔥", "【顺丰包邮】", "", "", "", "正品"]
NOISE_A_POST = ["包邮", "正品保证", "现货速发", "!!!", "限时特价", "", "", "", "新款"]
NOISE_B_POST = ["", "", "", "【京东自营】", "正品行货", "全国联保", "", "秒杀"]
CJK_UNIT = {"ml": "毫升", "L": "升", "g": "克", "kg": "公斤", "cm": "厘米", "mm": "毫米", "m": "米", "寸": "英寸", "W": "瓦", "mAh": "毫安"}
ROMAN_UNIT = {"寸": "英寸"}

def num(n):
    return str(int(n)) if float(n).is_integer() else str(n)

def spec_a(spec, rng):
    if not spec:
        return ""
    n, u = spec
    if u == "码":
        return f"{num(n)}码"
    if u == "寸":
        return f"{num(n)}英寸" if rng.random() < 0.5 else f"{num(n)}寸"
    return f"{num(n)}{u}" if rng.random() < 0.7 else f"{num(n)}{u.upper()}"

def spec_b(spec, rng):
    if not spec:
        return ""
    n, u = spec
    if u in ("GB", "TB"):
        return rng.choice([f"{num(n)}{u}", f"{num(n)} {u}", f"{num(n)}G" if u == "GB" else f"{num(n)}T"])
    if u == "码":
        return rng.choice([f"{num(n)}码", f"EUR {num(n)}"])
    if u in CJK_UNIT and rng.random() < 0.6:
        return f"{num(n)}{CJK_UNIT[u]}"
    return f"{num(n)} {u}"

def code_b(code, rng):
    if not code:
        return ""
    r = rng.random()
    if r < 0.35:
        return code
    if r < 0.55:
        return "".join(c for c in code if c.isalnum()).lower() if any(c.isdigit() for c in code) else code
    if r < 0.75 and any(c.isdigit() for c in code):
        return code + rng.choice(["/B", "BK", "/W", "-CN", "S"])
    return ""

def brand_a(b, rng):
    zh, latin, other = b
    r = rng.random()
    if r < 0.5 and zh != latin:
        return f"{latin}/{zh}"
    return zh if r < 0.75 else latin

def brand_b(b, rng):
    zh, latin, other = b
    r = rng.random()
    if r < 0.5 and zh != latin:
        return f"{zh}（{latin.upper()}）"
    return other if r < 0.75 else zh

def pick(parts, rng, drop):
    words = [rng.choice(alts) for alts in parts]
    words = [w for w in words if w]
    if drop and len(words) > 2:
        words.pop(rng.randrange(1, len(words)))
    return words

def title_a(p, code, spec, colour, rng):
    words = pick(p["parts"], rng, drop=False)
    if rng.random() < 0.5:
        first = words[:1]; rest = words[1:]; rng.shuffle(rest); words = first + rest
    bits = [rng.choice(NOISE_A_PRE), brand_a(p["brands"], rng), code] + words + [spec_a(spec, rng), colour, rng.choice(NOISE_A_POST)]
    return " ".join(b for b in bits if b).replace("  ", " ")

def title_b(p, code, spec, colour, rng):
    words = pick(p["parts"], rng, drop=rng.random() < 0.4)
    rng.shuffle(words)
    spec_text = spec_b(spec, rng)
    layout = rng.random()
    if layout < 0.5:
        bits = [brand_b(p["brands"], rng), code_b(code, rng), "".join(words[:2])] + words[2:] + [spec_text, colour]
    else:
        bits = [brand_b(p["brands"], rng)] + words + [code_b(code, rng), colour, spec_text]
    bits.append(rng.choice(NOISE_B_POST))
    title = " ".join(b for b in bits if b)
    if rng.random() < 0.25:
        title = fullwidth_digits(title)
    if rng.random() < 0.3:
        title = traditional(title)
    return title

def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "samples", "zh-eval")
    os.makedirs(out, exist_ok=True)
    rng = random.Random(20261130)
    rows_a, rows_b, matches = [], [], []
    items = []
    for i, p in enumerate(P):
        items.append((p, p["code"], p["spec"], rng.choice(p["colours"]), True, p["price"]))
        for j, (code, spec, colour) in enumerate(p["siblings"]):
            sib_spec = spec if isinstance(spec, tuple) or spec == "" else ""
            sib = dict(p)
            if isinstance(spec, str) and spec:
                sib = dict(p, parts=[[spec]] + p["parts"][1:])  # a sibling model named by its line (FreeBuds 5i)
            items.append((sib, code, sib_spec, colour, (i + j) % 2 == 0, round(p["price"] * rng.uniform(0.6, 1.4))))
    for n, (p, code, spec, colour, both, price) in enumerate(items):
        a_title = title_a(p, code, spec, colour, rng)
        b_title = title_b(p, code, spec, colour, rng)
        a_price = price * rng.uniform(0.92, 1.05)
        b_price = price * rng.uniform(0.92, 1.08)
        a = dict(title=a_title, brand=rng.choice([p["brands"][0], p["brands"][1], ""]), category=CAT_A[p["cat"]], price=f"{a_price:.2f}")
        b = dict(title=b_title, brand=p["brands"][0] if rng.random() < 0.7 else "", category=CAT_B[p["cat"]], price=f"{b_price:.2f}")
        if both:
            rows_a.append(a); rows_b.append(b); matches.append((len(rows_a) - 1, len(rows_b) - 1))
        elif rng.random() < 0.5:
            rows_a.append(a)
        else:
            rows_b.append(b)
    # Shuffle and number each shop's listing separately, so ids carry no hint.
    order_a = list(range(len(rows_a))); rng.shuffle(order_a)
    order_b = list(range(len(rows_b))); rng.shuffle(order_b)
    id_a = {old: f"tb:{600000 + k * 37}" for k, old in enumerate(order_a)}
    id_b = {old: f"jd:{100023 + k * 53}" for k, old in enumerate(order_b)}
    with open(os.path.join(out, "catalog.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "title", "brand", "category", "price", "currency", "source"])
        for old in order_a:
            r = rows_a[old]; w.writerow([id_a[old], r["title"], r["brand"], r["category"], r["price"], "CNY", "tb"])
        for old in order_b:
            r = rows_b[old]; w.writerow([id_b[old], r["title"], r["brand"], r["category"], r["price"], "CNY", "jd"])
    with open(os.path.join(out, "matches.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id_a", "id_b"])
        for a, b in sorted(matches, key=lambda m: id_a[m[0]]):
            w.writerow([id_a[a], id_b[b]])
    print(f"{len(rows_a) + len(rows_b)} products ({len(rows_a)} tb, {len(rows_b)} jd), {len(matches)} true pairs -> {out}")

main()
