"""What a message can imply without naming its topic, as data: clinical phobia words, life
situations, emoji, topic words in other languages, and the words typos are corrected towards.
implied.py applies it; nothing here is tied to one sentence, each entry is a general reading
("<root>phobia" is a fear of <thing>; "my <pet> died" is a loss of a pet).
"""

from __future__ import annotations

import re

FLAGS = re.IGNORECASE

# Greek and Latin roots of phobia names -> what the fear is of. The longest root that starts
# the word before "phob" wins, so "trypanophobia" (needles) is not "trypophobia" (holes).
PHOBIA_ROOTS: dict[str, str] = {
    "arachn": "spiders",
    "ophidi": "snakes",
    "herpet": "reptiles",
    "batrach": "frogs",
    "cyn": "dogs",
    "ailur": "cats",
    "felin": "cats",
    "elur": "cats",
    "tryp": "clusters of holes",
    "trypan": "needles",
    "belon": "needles",
    "aichm": "needles and sharp objects",
    "emet": "vomit",
    "thalass": "deep ocean",
    "bathy": "deep water",
    "aqua": "water",
    "hydr": "water",
    "acr": "heights",
    "bathm": "stairs",
    "coulr": "clowns",
    "hem": "blood",
    "haem": "blood",
    "hemat": "blood",
    "haemat": "blood",
    "entom": "insects",
    "insect": "insects",
    "api": "bees",
    "meliss": "bees",
    "sphex": "wasps",
    "spheks": "wasps",
    "mus": "mice",
    "sur": "rats",
    "murid": "rodents",
    "ornith": "birds",
    "aer": "flying",
    "avi": "flying",
    "pteromer": "flying",
    "claustr": "enclosed spaces",
    "dent": "dentists",
    "odont": "dentists",
    "iatr": "doctors",
    "nosocom": "hospitals",
    "nos": "illness",
    "thanat": "death",
    "necr": "dead bodies",
    "astra": "thunderstorms",
    "bront": "thunderstorms",
    "nyct": "darkness",
    "achlu": "darkness",
    "pyr": "fire",
    "selach": "sharks",
    "gale": "sharks",
    "ichthy": "fish",
    "scoleci": "worms",
    "vermin": "worms",
    "lepidopter": "butterflies and moths",
    "mott": "moths",
    "equin": "horses",
    "hipp": "horses",
    "pedi": "dolls",
    "automaton": "mannequins and dolls",
    "mys": "germs",
    "germ": "germs",
    "bacteri": "germs",
    "ochl": "crowds",
    "agora": "crowds",
    "tok": "childbirth",
    "toc": "childbirth",
    "phasm": "ghosts",
    "spectr": "ghosts",
    "demon": "demons",
    "amax": "car crashes",
    "veh": "car crashes",
    "hod": "car crashes",
    "cancer": "cancer",
    "carcin": "cancer",
    "trauma": "injuries",
    "traumat": "injuries",
    "vaccin": "vaccines",
    "chiropt": "bats",
    "ranid": "frogs",
    "cnid": "jellyfish",
    "ostraconi": "shellfish",
    "mageiroc": "cooking",
    "xen": "strangers",
    "ped": "children",
    "gerasc": "ageing",
    "geront": "old age",
    "obes": "weight gain",
    "cib": "food",
    "sit": "food",
    "trich": "hair",
    "dermat": "skin conditions",
    "omphal": "belly buttons",
    "pod": "feet",
    "glob": "balloons",
    "aviat": "flying",
    "siderodrom": "trains",
    "nucle": "nuclear war",
    "atom": "nuclear war",
    "lilaps": "tornadoes",
    "ancra": "wind",
    "seism": "earthquakes",
    "sangui": "blood",
}
# Other names of fears and aversions that are not "<root>phobia".
CONDITION_WORDS: dict[str, str] = {
    "misophonia": "eating sounds",
    "hematophobic": "blood",
    "fear of flying": "flying",
    "fear of heights": "heights",
    "fear of the dark": "darkness",
    "fear of needles": "needles",
    "fear of blood": "blood",
    "fear of spiders": "spiders",
    "fear of snakes": "snakes",
    "fear of dogs": "dogs",
    "fear of clowns": "clowns",
    "fear of vomit": "vomit",
    "fear of vomiting": "vomit",
    "fear of death": "death",
    "fear of dying": "death",
}

# Life situations -> the topic a person in them most often wants kept out of sight. Checked in
# order; `{thing}` in a topic is what the pattern's named group caught ("clean from heroin").
_PET = (
    r"(?:cat|kitty|kitten|dog|doggo|pup|puppy|pet|bunny|rabbit|hamster|guinea pig|horse|pony|"
    r"parrot|bird|budgie|fish|ferret|rat|tortoise|turtle|cockatiel|gerbil|lizard|snake)"
)
_PERSON = (
    r"(?:mom|mum|mother|mama|mommy|dad|father|papa|daddy|parents?|brother|sister|sibling|son|"
    r"daughter|child|kid|wife|husband|partner|spouse|fianc[eé]e?|boyfriend|girlfriend|"
    r"grand\w*|granny|nana|nan|gran|grandpa|grandma|friend|best friend|bestie|uncle|aunt|"
    r"auntie|cousin|nephew|niece|colleague|coworker|teacher|mentor|neighbou?r)"
)
_DIED = (
    r"(?:died|dies|passed(?: away| on)?|pass(?:ed)? away|is gone|went to sleep|was killed|"
    r"got killed|was put (?:down|to sleep)|had to be put (?:down|to sleep)|crossed the rainbow "
    r"bridge|lost (?:her|his|their) (?:battle|fight))"
)
SITUATIONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p, FLAGS), topic)
    for p, topic in [
        # Pregnancy loss, before any other loss: "lost my baby" is not a pet or a parent.
        (
            r"\bmiscarr\w*|\bstillb(?:irth|orn)\b|\blost (?:my|our|the) (?:baby|pregnancy)\b|"
            r"\b(?:pregnancy|baby) loss\b|\bectopic\b|\binfertil\w*|\bivf\b|"
            r"\btrying to (?:conceive|get pregnant)\b|\bcan't (?:have|get) (?:kids|pregnant)\b",
            "pregnancy and babies",
        ),
        (
            rf"\b(?:my|our)\s+(?:\w+\s+){{0,2}}{_PET}\b.*\b{_DIED}|"
            rf"\b(?:put|putting) (?:my|our) (?:\w+ )?{_PET} (?:down|to sleep)\b|"
            rf"\blost (?:my|our) (?:\w+ )?{_PET}\b|\b{_PET} (?:died|passed away)\b|"
            r"\bpet loss\b|\bgrieving (?:my|our|a|the) (?:\w+ )?" + _PET + r"\b",
            "pet loss",
        ),
        (
            rf"\b(?:my|our)\s+(?:\w+\s+){{0,2}}{_PERSON}\b.*\b{_DIED}|"
            rf"\blost (?:my|our) (?:\w+ )?{_PERSON}\b|\b(?:grieving|mourning|bereaved|"
            r"bereavement|widow(?:ed|er)?|funeral|passed away|died|death of my)\b",
            "death",
        ),
        (
            r"\b(?:sober|sobriety|alcoholi(?:c|sm)|alcohol addiction|drinking problem|"
            r"(?:quit|quitting|stopped|stopping|gave up|giving up|off the) (?:drinking|alcohol|"
            r"booze|the booze|the bottle)|aa meetings?|recovering drunk|dry january)\b",
            "alcohol",
        ),
        (
            r"\bclean (?:from|off(?: of)?) (?P<thing>heroin|cocaine|coke|meth|opioids|opiates|"
            r"fentanyl|pills|crack|weed|ketamine|xanax|oxy\w*)\b",
            "{thing}",
        ),
        (
            r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|a few|several)\s+"
            r"(?:days?|weeks?|months?|years?)\s+clean\b|\bclean (?:for|since)\b|"
            r"\bnarcotics anonymous\b|\brecovering (?:drug )?addict\b|\bdrug addiction\b|"
            r"\b(?:in|from) (?:drug )?rehab\b|\boverdos\w*",
            "drugs",
        ),
        (
            r"\b(?:recovering |former |ex-?)?(?P<thing>gambling|porn|sugar|shopping|gaming|"
            r"betting|sports betting|social media|nicotine|vaping) (?:addict(?:ion)?|problem)\b|"
            r"\baddicted to (?P<thing2>gambling|porn|sugar|shopping|gaming|betting)\b",
            "{thing}",
        ),
        (
            r"\b(?:quit|quitting|stopped|stopping|gave up|giving up|trying to quit) "
            r"(?:smoking|cigarettes|vaping|nicotine|the cigs)\b|\bex-?smoker\b",
            "smoking",
        ),
        (
            r"\beating disorders?\b|\banorexi\w*|\bbulimi\w*|\bbinge eating\b|\bed recovery\b|"
            r"\barfid\b|\borthorexi\w*",
            "eating disorders",
        ),
        (r"\bself[- ]?harm\w*|\bcutting myself\b|\bclean from cutting\b", "self harm"),
        (r"\bsuicid\w*|\bsuicide attempt\b", "suicide"),
        (
            r"\bdivorc\w*|\bseparat(?:ed|ing) from my\b|\bmy marriage (?:ended|is over)\b",
            "divorce",
        ),
        (
            r"\b(?:got|been|was|just) dumped\b|\bdumped me\b|\bbroke up\b|\bbreak ?up\b|"
            r"\b(?:my|our) (?:ex|relationship) (?:left|ended)\b|\bheart ?broken\b",
            "breakups",
        ),
        (
            r"\blaid off\b|\blay ?offs?\b|\blost my job\b|\b(?:got|been|was) fired\b|"
            r"\bmade redundant\b|\bunemployed\b|\bjob ?less\b",
            "layoffs",
        ),
        (
            r"\bdiagnosed with (?:an? |stage \w+ )?(?P<thing>[a-z][a-z' -]{2,30}?)(?:[.,!]|$)",
            "{thing}",
        ),
        (r"\b(?:chemo|chemotherapy|in remission|oncolog\w*)\b", "cancer"),
        (r"\b(?:ptsd|flashbacks)\b.*\b(?:war|combat|deployment)\b|\bveteran\b", "war"),
        (r"\bassault(?:ed)?\b|\braped?\b|\bsurvivor of (?:abuse|assault)\b", "sexual assault"),
    ]
]

# Recovery from a named condition: "recovering from alcoholism" -> the condition's topic.
RECOVERY = re.compile(
    r"\b(?:recovering|in recovery|recovered|healing|clean) (?:from|of) (?:an? |my )?"
    r"(?P<thing>[a-z][a-z -]{2,30}?)(?:[.,!]|$| for | since )",
    FLAGS,
)

# Emoji that name a topic; every other emoji is decoration and is dropped.
EMOJI_TOPICS: dict[str, str] = {
    "\U0001f577": "spiders",
    "\U0001f578": "spiders",
    "\U0001f40d": "snakes",
    "\U0001f921": "clowns",
    "\u26bd": "football",
    "\U0001f3c8": "American football",
    "\U0001f3c0": "basketball",
    "\u26be": "baseball",
    "\U0001f3be": "tennis",
    "\U0001f489": "needles",
    "\U0001fa78": "blood",
    "\U0001f37a": "alcohol",
    "\U0001f37b": "alcohol",
    "\U0001f377": "alcohol",
    "\U0001f943": "alcohol",
    "\U0001f378": "alcohol",
    "\U0001f37e": "alcohol",
    "\U0001f6ac": "smoking",
    "\U0001f48a": "drugs",
    "\U0001f3b0": "gambling",
    "\U0001f3b2": "gambling",
    "\U0001f52b": "guns",
    "\U0001f92e": "vomit",
    "\U0001f9a0": "germs",
    "\U0001f988": "sharks",
    "\U0001f41d": "bees",
    "\U0001f997": "cockroaches",
    "\U0001fab3": "cockroaches",
    "\U0001f41b": "insects",
    "\U0001f41c": "insects",
    "\U0001f400": "rats",
    "\U0001f401": "mice",
    "\U0001f42d": "mice",
    "\U0001f415": "dogs",
    "\U0001f436": "dogs",
    "\U0001f408": "cats",
    "\U0001f431": "cats",
    "\U0001f426": "birds",
    "\U0001f921\u200d": "clowns",
    "\U0001f480": "death",
    "\u2620": "death",
    "\u26b0": "death",
    "\U0001f5f3": "elections",
    "\u20bf": "crypto",
    "\U0001fa99": "crypto",
    "\U0001f9b7": "dentists",
    "\u2708": "flying",
    "\U0001f47b": "ghosts",
    "\U0001f930": "pregnancy",
    "\U0001f476": "babies",
    "\U0001f48d": "weddings",
    "\U0001f492": "weddings",
    "\U0001f52a": "knives",
    "\U0001f4a3": "bombs",
    "\U0001f6a8": "police",
}
# Pictographs, symbols, flags, skin tones, joiners and variation selectors.
EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\u20bf\ufe0e\ufe0f\u200d"
    "\u20e3\U000e0020-\U000e007f\u2190-\u21ff\u3030\u303d\u3297\u3299]"
)

# Topics named in other languages -> the English filter text. Keys are written as people
# type them; implied.py compares them without case or accents (fútbol = futbol).
FOREIGN_TOPICS: dict[str, tuple[str, ...]] = {
    "football": (
        "足球",
        "サッカー",
        "fútbol",
        "futbol",
        "football",
        "foot",
        "fußball",
        "fussball",
        "futebol",
        "calcio",
        "축구",
    ),
    "basketball": (
        "篮球",
        "籃球",
        "バスケ",
        "バスケットボール",
        "baloncesto",
        "básquetbol",
        "basket",
        "basketball",
        "basquete",
    ),
    "sports": (
        "体育",
        "運動",
        "スポーツ",
        "deportes",
        "deporte",
        "sport",
        "sports",
        "sportnachrichten",
        "esportes",
        "esporte",
    ),
    "politics": (
        "政治",
        "政治的",
        "política",
        "politica",
        "politique",
        "politik",
        "polityka",
        "정치",
    ),
    "elections": (
        "选举",
        "選挙",
        "elecciones",
        "élections",
        "elections",
        "wahlen",
        "wahl",
        "eleições",
        "eleicoes",
    ),
    "religion": ("宗教", "religión", "religion", "religião", "religiao"),
    "war": ("战争", "戦争", "guerra", "guerre", "krieg", "전쟁"),
    "violence": ("暴力", "violencia", "violence", "gewalt", "violência", "violencia"),
    "death": ("死亡", "死", "muerte", "mort", "la mort", "tod", "morte"),
    "alcohol": ("酒", "酒精", "お酒", "アルコール", "alcohol", "alcool", "alkohol", "álcool"),
    "drugs": ("毒品", "麻薬", "drogas", "drogues", "drogen"),
    "blood": ("血", "血液", "sangre", "sang", "blut", "sangue"),
    "gore": ("血腥", "グロ", "gore"),
    "spiders": (
        "蜘蛛",
        "クモ",
        "くも",
        "araña",
        "arañas",
        "araignée",
        "araignées",
        "spinne",
        "spinnen",
        "aranha",
        "aranhas",
        "거미",
    ),
    "snakes": (
        "蛇",
        "ヘビ",
        "へび",
        "serpiente",
        "serpientes",
        "culebras",
        "serpent",
        "serpents",
        "schlange",
        "schlangen",
        "cobra",
        "cobras",
        "뱀",
    ),
    "clowns": (
        "小丑",
        "ピエロ",
        "道化師",
        "payaso",
        "payasos",
        "clown",
        "clowns",
        "palhaço",
        "palhaços",
    ),
    "dogs": (
        "狗",
        "犬",
        "perro",
        "perros",
        "chien",
        "chiens",
        "hund",
        "hunde",
        "cão",
        "cães",
        "cachorro",
        "cachorros",
    ),
    "cats": ("猫", "猫咪", "gato", "gatos", "chat", "chats", "katze", "katzen"),
    "insects": ("虫子", "昆虫", "虫", "insectos", "bichos", "insectes", "insekten", "insetos"),
    "needles": (
        "针",
        "注射",
        "注射器",
        "agujas",
        "inyecciones",
        "aiguilles",
        "piqûres",
        "spritzen",
        "nadeln",
        "agulhas",
        "injeções",
    ),
    "crypto": (
        "加密货币",
        "比特币",
        "仮想通貨",
        "暗号資産",
        "criptomonedas",
        "cripto",
        "cryptomonnaies",
        "crypto",
        "kryptowährungen",
        "krypto",
        "criptomoedas",
    ),
    "celebrities": ("明星", "名人", "芸能人", "famosos", "célébrités", "promis", "celebridades"),
    "horror": ("恐怖片", "恐怖", "ホラー", "terror", "horror", "horreur"),
    "vomit": ("呕吐", "嘔吐", "vómito", "vomi", "erbrochenes", "vômito"),
    "cancer": ("癌症", "癌", "がん", "cáncer", "cancer", "krebs", "câncer"),
    "suicide": ("自杀", "自殺", "suicidio", "suicide", "selbstmord", "suicídio"),
    "guns": ("枪", "銃", "armas", "armes", "waffen"),
    "weddings": ("婚礼", "結婚式", "bodas", "mariages", "hochzeiten", "casamentos"),
    "babies": ("婴儿", "赤ちゃん", "bebés", "bébés", "babys", "bebês"),
    "pregnancy": ("怀孕", "妊娠", "embarazo", "grossesse", "schwangerschaft", "gravidez"),
    "diets": ("减肥", "ダイエット", "dietas", "régimes", "diäten", "dieta"),
    "food": ("食物", "美食", "食べ物", "comida", "nourriture", "essen"),
    "sharks": ("鲨鱼", "サメ", "tiburones", "requins", "haie", "tubarões"),
    "birds": ("鸟", "鳥", "pájaros", "aves", "oiseaux", "vögel", "pássaros"),
    "rats": ("老鼠", "ネズミ", "ratas", "rats", "ratten", "ratos"),
    "heights": ("高处", "高所", "alturas", "hauteurs", "höhen"),
    "accidents": ("事故", "accidentes", "accidents", "unfälle", "acidentes"),
    "terrorism": ("恐怖主义", "テロ", "terrorismo", "terrorisme", "terrorismus"),
    "immigration": ("移民", "inmigración", "immigration", "einwanderung", "imigração"),
    "video games": ("游戏", "ゲーム", "videojuegos", "jeux vidéo", "videospiele", "videogames"),
    "ads": (
        "广告",
        "広告",
        "anuncios",
        "publicidad",
        "publicités",
        "pubs",
        "werbung",
        "publicidade",
        "anúncios",
    ),
    "anime": ("动漫", "アニメ", "anime"),
}

# Words that only carry the request in a language without spaces (removed before the topic
# is looked up): "请不要给我看关于足球的内容" -> "足球".
CJK_FILLERS = (
    "请不要给我看",
    "请不要让我看到",
    "不要给我看",
    "我不想看到",
    "我不想看",
    "不想看到",
    "不想看",
    "不要显示",
    "不要推荐",
    "别给我看",
    "别让我看到",
    "请屏蔽",
    "屏蔽",
    "请隐藏",
    "隐藏",
    "过滤",
    "我害怕",
    "我怕",
    "害怕",
    "讨厌",
    "请",
    "不要",
    "关于",
    "有关",
    "相关",
    "的内容",
    "内容",
    "的帖子",
    "帖子",
    "的新闻",
    "新闻",
    "的视频",
    "视频",
    "的图片",
    "图片",
    "照片",
    "的东西",
    "东西",
    "的",
    "了",
    "吧",
    "谢谢",
    "任何",
    "所有",
    "を見たくないです",
    "を見たくない",
    "は見たくないです",
    "は見たくない",
    "見たくないです",
    "見たくない",
    "を非表示にしてください",
    "を非表示にして",
    "を非表示",
    "非表示にして",
    "非表示",
    "をブロックして",
    "ブロックして",
    "ブロック",
    "を隠して",
    "隠して",
    "が怖いです",
    "が怖い",
    "怖い",
    "が苦手です",
    "が苦手",
    "苦手",
    "の投稿",
    "投稿",
    "の話は",
    "の話",
    "の画像",
    "画像",
    "の動画",
    "動画",
    "の記事",
    "記事",
    "もう",
    "ください",
    "です",
    "は",
    "を",
    "が",
    "の",
    "に",
    "関連",
    "について",
)
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")

# Request phrasings in languages with spaces; what they leave is the topic.
FOREIGN_REQUESTS = re.compile(
    r"\b(?:"
    # Spanish
    r"(?:ya )?no quiero (?:ver|leer)(?: m[aá]s)?(?: nada)?|no me (?:muestres|ense[nñ]es)|"
    r"no m[aá]s(?: de)?|"
    r"oculta(?:r|me)?|esconde(?:r)?|bloquea(?:r)?|filtra(?:r)?|nada (?:de|sobre)|"
    r"tengo miedo (?:a|de)|me dan miedo|odio|detesto|no soporto|basta de|"
    r"je d[ée]teste|je hais|j'en ai marre (?:de|des|du)|je ne supporte (?:pas|plus)|"
    r"ich hasse|ich kann (?:keine?n?|nichts)|(?:eu )?odeio|n[aã]o suporto|"
    # French
    r"je ne veux (?:plus|pas|rien|jamais)(?: rien)? (?:voir|lire)|ne me montre (?:plus|pas)|"
    r"(?:cache|masque|bloque)(?:r|z)?(?= (?:les|la|le|l'|des|du|tout|toutes?|tous)\b)|"
    r"rien (?:sur|de|à propos)|"
    r"plus de|pas de|j'ai peur (?:des|de la|de l'|du|de)|"
    # German
    r"ich (?:will|möchte|moechte) (?:nichts|keine?n?)(?: mehr)?(?: (?:über|ueber|von|zu))?|"
    r"zeig(?:e)? mir (?:keine?n?|nichts)|blende|blockiere|verstecke|keine?n?|nichts (?:über|von)|"
    r"ich habe angst vor|angst vor|"
    # Portuguese
    r"(?:j[aá] )?n[aã]o quero (?:ver|ler)(?: mais)?(?: nada)?|n[aã]o me mostre|esconda|"
    r"esconder|bloqueie|bloquear|oculte|chega de|nada (?:sobre|de)|tenho medo (?:de|da|do|dos|das)"
    r")(?=\s|$)",
    FLAGS,
)
# Words of those languages around a topic that are not part of it.
FOREIGN_FILLERS = re.compile(
    r"\b(?:por favor|porfa|svp|stp|gracias|s'il (?:te|vous) pla[iî]t|merci|bitte|danke|"
    r"obrigad[oa]|"
    r"publicaciones|publicaci[oó]n|posts?|publications?|beitr[aä]ge|postagens|"
    r"im feed|en mi feed|dans mon fil|no meu feed|aus|mehr|sehen|lesen|ver|voir|"
    r"sobre|sur|acerca de|de|del|des|du|la|le|les|el|los|las|l'|à propos de|über|ueber|von|"
    r"der|die|das|den|dem|zu|um|a|o|os|as|da|do|das|dos|nada|rien|nichts|contenido|"
    r"contenu|inhalte?|conte[uú]do|im[aá]genes|images|bilder|imagens|fotos|photos|v[ií]deos|"
    r"videos|noticias|nouvelles|more|mais|m[aá]s|plus|cosas|choses|sachen|coisas|todo|tout|"
    r"alles|tudo|anything|about)\b",
    FLAGS,
)

# Words for the kind of post ("news"), dropped when a topic is named with them ("Nachrichten
# über Krieg" -> war), kept when they are all there is ("bitte keine Nachrichten").
FOREIGN_KINDS = frozenset(
    (
        "noticias",
        "nouvelles",
        "actualites",
        "nachrichten",
        "noticias",
        "news",
        "videos",
        "vidéos",
        "fotos",
        "bilder",
        "photos",
        "memes",
        "新闻",
        "ニュース",
    )
)

# Words the request phrasings are made of: a typo of one is read as the word (implied.py's
# typo model: swapped, doubled or dropped letters, a vowel for another in longer words).
REQUEST_WORDS = (
    "want",
    "about",
    "anything",
    "something",
    "everything",
    "more",
    "seeing",
    "hide",
    "hiding",
    "block",
    "blocking",
    "show",
    "showing",
    "please",
    "scared",
    "afraid",
    "terrified",
    "posts",
    "stuff",
    "filter",
    "remove",
    "never",
    "stop",
    "reading",
    "nothing",
    "related",
    "mute",
    "avoid",
    "triggered",
    "spoilers",
    "blur",
    "warn",
    "don't",
    "anymore",
    "feed",
    "timeline",
    "really",
    "content",
    "pictures",
    "images",
    "videos",
    "phobia",
    "seriously",
    "honestly",
    "interested",
)
# Of those, the ones a request starts with (a capitalised first word is corrected only to them).
OPENING_WORDS = frozenset(
    ("hide", "block", "stop", "show", "filter", "remove", "mute", "avoid", "please", "never")
)
# Common misspellings that the typo model cannot reach (two edits, or a real word).
MISSPELLINGS: dict[str, str] = {
    "wanna": "want to",
    "gonna": "going to",
    "scarred of": "scared of",
    "abt": "about",
    "anythin": "anything",
    "nothin": "nothing",
    "somethin": "something",
    "pls": "please",
    "plz": "please",
    "pleeease": "please",
    "ur": "your",
    "u": "you",
    "dnt": "don't",
    "dont": "don't",
    "doesnt": "doesn't",
    "cant": "can't",
    "im": "I'm",
    "ive": "I've",
    "wont": "won't",
    "thx": "thanks",
    "stff": "stuff",
    "pix": "pics",
    "vids": "videos",
}

# Topic words typos are corrected towards, besides the topics above: the common subjects of
# filters (a typo in a topic would make the filter match nothing).
COMMON_TOPIC_WORDS = (
    "politics",
    "political",
    "election",
    "elections",
    "religion",
    "violence",
    "violent",
    "spiders",
    "snakes",
    "clowns",
    "football",
    "soccer",
    "basketball",
    "baseball",
    "hockey",
    "crypto",
    "cryptocurrency",
    "bitcoin",
    "gore",
    "blood",
    "needles",
    "vaccines",
    "cancer",
    "death",
    "alcohol",
    "drinking",
    "drugs",
    "gambling",
    "pregnancy",
    "weddings",
    "divorce",
    "suicide",
    "abortion",
    "guns",
    "shootings",
    "terrorism",
    "celebrities",
    "celebrity",
    "influencers",
    "diets",
    "dieting",
    "weight",
    "insects",
    "cockroaches",
    "rats",
    "mice",
    "sharks",
    "dogs",
    "cats",
    "birds",
    "horror",
    "accidents",
    "crashes",
    "earthquakes",
    "hurricanes",
    "immigration",
    "inflation",
    "economy",
    "stocks",
    "vomit",
    "injuries",
    "surgery",
    "hospitals",
    "war",
    "military",
    "police",
    "crime",
    "murder",
    "kidnapping",
    "spoilers",
    "sports",
    "gaming",
    "astrology",
    "horoscopes",
    "vaping",
    "smoking",
    "pornography",
    "nudity",
    "covid",
    "pandemic",
    "climate",
    "disasters",
    "layoffs",
    "royals",
    "kardashians",
    "trump",
    "biden",
    "marvel",
    "netflix",
    "anime",
    "wrestling",
    "boxing",
    "cricket",
    "tennis",
    "golf",
    "formula",
    "racing",
    "fashion",
    "makeup",
    "parenting",
    "babies",
    "children",
    "funerals",
    "grief",
    "breakups",
    "dating",
    "relationships",
    "cheating",
    "obesity",
    "fitness",
    "bodybuilding",
    "veganism",
    "meat",
    "hunting",
    "fishing",
    "animals",
    "abuse",
    "bullying",
    "harassment",
    "racism",
    "sexism",
)
