from consult.exports.memo import Memo


def test_a_memo_computes_each_key_once_and_forgets_the_least_recently_read():
    memo = Memo(size=2)
    computed = []

    def read(key):
        def compute():
            computed.append(key)
            return key.upper()
        return memo.get(key, compute)

    assert [read("a"), read("a"), read("b")] == ["A", "A", "B"]
    read("a")  # read again, so "b" is now the oldest
    read("c")  # one too many: "b" goes
    assert [read("a"), read("c"), read("b")] == ["A", "C", "B"]
    assert computed == ["a", "b", "c", "b"]


def test_a_cleared_memo_computes_again():
    memo = Memo(size=4)
    assert memo.get("key", lambda: 1) == 1
    memo.clear()
    assert memo.get("key", lambda: 2) == 2
