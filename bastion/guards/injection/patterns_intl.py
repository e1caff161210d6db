"""Injection rule patterns in Spanish, French, German, Portuguese, Italian, Dutch, RU, ZH, JA,
TR, PL, KO, AR, HI, VI, ID."""

from __future__ import annotations

_G = r"[^.!?\n]{0,30}?"  # a short gap inside one sentence

OTHER_LANGUAGES: tuple[tuple[str, str, str], ...] = (
    # --- Spanish ---
    ("override", "es",
     r"\b(?:ignora|ignore|ignorad|ignoren|olvida|olvide|olvidad|olviden|omite|omita|descarta|"
     r"descarte|desobedece|haz caso omiso(?: de)?|no sigas)\b" + _G + r"\b(?:instrucciones|"
     r"indicaciones|reglas|órdenes|directrices|normas|restricciones)\b[^.!?\n]{0,15}?"
     r"\b(?:anteriores|previas|de arriba|del sistema|originales|iniciales|precedentes)\b"),
    ("override_loose", "es",
     r"\b(?:ignora|ignore|olvida|olvide|omite|descarta)\b" + _G +
     r"\b(?:instrucciones|reglas|directrices)\b"),
    ("role", "es",
     r"\b(?:ahora eres|ahora vas a ser|a partir de ahora,? (?:eres|serás|tú|vas|responde)|"
     r"finge (?:ser|que eres)|haz de cuenta que eres|actúa como si|juega el papel)\b"),
    ("leak", "es",
     r"\b(?:revela|revele|muestra|muéstrame|muestre|repite|imprime|dime|dame)\b"
     r"[^.!?\n]{0,25}\b(?:tu|tus|su|sus|el|las|los)\b[^.!?\n]{0,10}\b(?:prompt del sistema|"
     r"instrucciones (?:del sistema|iniciales|originales|ocultas|secretas)|prompt (?:inicial|"
     r"original|oculto))"),
    ("hidden_note", "es",
     r"\b(?:nota|mensaje|instrucci(?:ón|ones)|aviso)\s+(?:para|a)\s+(?:la\s+|el\s+)?(?:ia|"
     r"i\.a\.|asistente|modelo|chatbot|llm|agente)\b|\bsi eres (?:una? )?(?:ia|inteligencia "
     r"artificial|asistente|modelo de lenguaje)\b"),
    ("mode_on", "es", r"\bmodo (?:desarrollador|dios|sin (?:restricciones|filtros|censura))\b"),
    ("no_limits", "es",
     r"\bsin (?:ninguna |ningún |ningun )?(?:restricci(?:ón|ones)|censura|filtros?|límites?)\b"),
    # --- French ---
    ("override", "fr",
     r"\b(?:ignore[zs]?|oublie[zs]?|néglige[zs]?|ne (?:tiens|tenez) (?:pas|plus) compte(?: de)?|"
     r"(?:fais|faites) abstraction(?: de)?|contourne[zs]?)\b" + _G + r"\b(?:instructions|"
     r"consignes|règles|directives|ordres|indications)\b[^.!?\n]{0,15}?\b(?:précédentes|"
     r"antérieures|ci-dessus|initiales|originales|du système|système|d'origine)"),
    ("override_loose", "fr",
     r"\b(?:ignore[zs]?|oublie[zs]?)\b" + _G + r"\b(?:instructions|consignes|règles)\b"),
    ("role", "fr",
     r"\b(?:tu es|vous êtes) (?:maintenant|désormais|à présent)\b|\bà partir de maintenant,? "
     r"(?:tu|vous)\b|\b(?:fais|faites) semblant d'être\b|\b(?:joue|jouez) le rôle d|\b(?:agis|"
     r"agissez) comme (?:si|un|une)\b"),
    ("leak", "fr",
     r"\b(?:révèle|révélez|montre|montrez|affiche|affichez|répète|répétez|donne|donnez|dis|"
     r"dites)(?:-moi)?\b[^.!?\n]{0,25}\b(?:instructions|consignes|prompt|invite) (?:système|du "
     r"système|initiales|cachées|secrètes|d'origine)"),
    ("hidden_note", "fr",
     r"\b(?:note|message|instructions?|remarque)\s+(?:pour|à|aux?)\s+(?:l'|l’|les\s+)?(?:ia|"
     r"i\.a\.|assistants?|modèle|llm|chatbot|agent)\b|\bsi (?:tu es|vous êtes) une? (?:ia|"
     r"intelligence artificielle|assistant|modèle)"),
    ("mode_on", "fr", r"\bmode (?:développeur|dieu|sans (?:restriction|filtre|censure))"),
    ("no_limits", "fr", r"\bsans (?:aucune? )?(?:restrictions?|censure|filtres?|limites?)\b"),
    # --- German ---
    ("override", "de",
     r"\b(?:ignorier(?:e|en|t)?|vergiss|vergessen Sie|missachte|missachten Sie|übergehe|"
     r"umgehe)\b[^.!?\n]{0,40}?\b(?:vorherigen|vorigen|bisherigen|obigen|früheren|"
     r"vorangegangenen|ursprünglichen|alle|alten|System)[-\w]*\s*(?:Anweisungen|Instruktionen|"
     r"Befehle|Regeln|Vorgaben|Richtlinien|Anordnungen)\b"),
    ("override_loose", "de",
     r"\b(?:ignorier(?:e|en)?|vergiss|missachte)\b[^.!?\n]{0,40}?\b(?:Anweisungen|"
     r"Instruktionen|Regeln|Vorgaben)\b"),
    ("role", "de",
     r"\bdu bist (?:jetzt|ab sofort|nun|von nun an)\b|\bab (?:jetzt|sofort)(?: an)?,? (?:bist|"
     r"wirst|antwortest) du\b|\btu so, als (?:ob|wärst)|\bgib dich als\b|\bspiel(?:e)? die "
     r"Rolle\b|\bverhalte dich (?:wie|als)\b"),
    ("leak", "de",
     r"\b(?:zeig|zeige|verrate|nenne|gib|wiederhole|drucke)\b[^.!?\n]{0,25}\b(?:System-?"
     r"(?:prompt|anweisungen|nachricht)|ursprünglichen Anweisungen|versteckten Anweisungen|"
     r"geheimen Anweisungen|internen Anweisungen)"),
    ("hidden_note", "de",
     r"\b(?:Hinweis|Nachricht|Anweisung|Notiz)\s+(?:an|für)\s+(?:die|den|das)?\s*(?:KI|AI|"
     r"Assistenten|Sprachmodell|Modell|Chatbot|LLM|Agenten)\b|\b(?:wenn|falls) du eine? (?:KI|"
     r"Sprachmodell|Assistent|AI)\b"),
    ("mode_on", "de", r"\b(?:Entwicklermodus|Gott-?modus|Jailbreak-?Modus)\b"),
    ("no_limits", "de",
     r"\b(?:ohne|keine)\s+(?:jegliche\s+|irgendwelche\s+)?(?:Einschränkungen|Filter|Zensur|"
     r"Beschränkungen)\b"),
    ("safety_off", "de",
     r"\b(?:deaktiviere|umgehe|ignoriere|schalte)\b[^.!?\n]{0,20}\b(?:Sicherheitsfilter|"
     r"Sicherheitsrichtlinien|Inhaltsrichtlinien|Schutzmechanismen)\b"),
    # --- Portuguese ---
    ("override", "pt",
     r"\b(?:ignore|ignora|ignorem|esqueça|esquece|esqueçam|desconsidere|desconsidera|despreze|"
     r"descarte|não siga)\b" + _G + r"\b(?:instruções|instrucoes|regras|diretrizes|ordens|"
     r"orientações|comandos)\b[^.!?\n]{0,15}?\b(?:anteriores|prévias|previas|acima|iniciais|"
     r"originais|do sistema)\b"),
    ("override_loose", "pt",
     r"\b(?:ignore|ignora|esqueça|esquece|desconsidere)\b" + _G + r"\b(?:instruções|regras)\b"),
    ("role", "pt",
     r"\b(?:agora você é|você agora é|a partir de agora,? (?:você|tu|responda)|finja (?:ser|que "
     r"é|que você é)|faça de conta que|aja como (?:se|um|uma))\b"),
    ("leak", "pt",
     r"\b(?:revele|revela|mostre|mostra|repita|exiba|diga|imprima)\b[^.!?\n]{0,25}\b(?:prompt "
     r"do sistema|instruções (?:do sistema|iniciais|originais|ocultas|secretas)|prompt "
     r"(?:inicial|original|oculto))"),
    ("hidden_note", "pt",
     r"\b(?:nota|mensagem|instruç(?:ão|ões)|aviso)\s+(?:para|à|ao|aos)\s+(?:a\s+|o\s+)?(?:ia|"
     r"i\.a\.|assistente|modelo|chatbot|llm|agente)\b|\bse você (?:é|for) (?:uma? )?(?:ia|"
     r"inteligência artificial|assistente|modelo de linguagem)"),
    ("mode_on", "pt", r"\bmodo (?:desenvolvedor|deus|sem (?:restrições|filtros|censura))"),
    ("no_limits", "pt", r"\bsem (?:nenhuma |quaisquer )?(?:restrições|censura|filtros|limites)\b"),
    # --- Italian ---
    ("override", "it",
     r"\b(?:ignora|ignorate|ignori|dimentica|dimenticate|dimentichi|trascura|non seguire|"
     r"tralascia|scarta)\b" + _G + r"\b(?:istruzioni|regole|direttive|indicazioni|ordini|"
     r"comandi)\b[^.!?\n]{0,15}?\b(?:precedenti|di prima|sopra|iniziali|originali|del "
     r"sistema|di sistema)\b"),
    ("override_loose", "it",
     r"\b(?:ignora|ignorate|dimentica|dimenticate)\b" + _G + r"\b(?:istruzioni|regole)\b"),
    ("role", "it",
     r"\b(?:ora sei|adesso sei|(?:da ora|d'ora) in poi,? (?:sei|tu|rispondi)|fingi di essere|fai "
     r"finta di essere|comportati come|agisci come (?:se|un|una))\b"),
    ("leak", "it",
     r"\b(?:rivela|rivelami|mostra|mostrami|ripeti|stampa|dimmi|dammi)\b[^.!?\n]{0,25}\b"
     r"(?:prompt di sistema|istruzioni (?:di sistema|iniziali|originali|nascoste|segrete)|"
     r"prompt (?:iniziale|originale|nascosto))"),
    ("hidden_note", "it",
     r"\b(?:nota|messaggio|istruzion[ei]|avviso)\s+(?:per|all'|alla|al|agli)\s*(?:l'|l’)?(?:ia|"
     r"i\.a\.|assistente|modello|chatbot|llm|agente)\b|\bse sei (?:un'|una |un )?(?:ia|"
     r"intelligenza artificiale|assistente|modello linguistico)"),
    ("mode_on", "it", r"\bmodalità (?:sviluppatore|dio|senza (?:restrizioni|filtri|censura))"),
    ("no_limits", "it", r"\bsenza (?:alcuna |nessuna )?(?:restrizion[ei]|censura|filtri|limiti)\b"),
    ("safety_off", "romance",
     r"\b(?:desactiva|desactive|desactivar|désactive|désactivez|disattiva|disattivate|desligue|"
     r"desliga|desative|desativa|apaga)\b[^.!?\n]{0,25}\b(?:filtros?|filtres?|filtri|garde-fous|"
     r"salvaguardas|salvaguardias|políticas? de contenido|politique de contenu|sicurezza|"
     r"seguridad|segurança|sécurité)\b"),
    # --- Dutch ---
    ("override", "nl",
     r"\b(?:negeer|vergeet|negeren)\b" + _G + r"\b(?:vorige|eerdere|bovenstaande|"
     r"oorspronkelijke|alle)\b[^.!?\n]{0,15}?\b(?:instructies|regels|opdrachten|aanwijzingen)\b"),
    ("role", "nl", r"\b(?:je bent nu|vanaf nu ben je|doe alsof je)\b"),
    ("leak", "nl",
     r"\b(?:toon|laat|geef|herhaal)\b[^.!?\n]{0,25}\b(?:systeemprompt|systeeminstructies|"
     r"je (?:oorspronkelijke |verborgen )?instructies)"),
    # --- Russian ---
    ("override", "ru",
     r"(?:игнорируй|игнорируйте|забудь|забудьте|проигнорируй|не обращай внимания на)"
     r"[^.!?\n]{0,40}?(?:инструкци|указани|правил|команд)"),
    ("role", "ru", r"(?:теперь ты|ты теперь|с этого момента ты|притворись|представь, что ты)"),
    ("leak", "ru", r"(?:покажи|раскрой|выведи|повтори)[^.!?\n]{0,25}(?:системн|свои инструкц)"),
    # --- Chinese, Japanese ---
    ("override", "zh",
     r"(?:忽略|无视|忘记|忘掉|不要理会|忽视)[^。！？\n]{0,16}(?:指令|指示|说明|规则|提示|设定)"),
    ("role", "zh", r"(?:你现在是|从现在开始[,，]?你|从现在起[,，]?你|假装你是|扮演)"),
    ("leak", "zh",
     r"(?:显示|输出|告诉我|透露|重复)[^。！？\n]{0,10}"
     r"(?:系统提示|系统指令|你的指令|初始指令|提示词)"),
    ("mode_on", "zh", r"开发者模式"),
    ("override", "ja",
     r"(?:以前|前|上記|これまで)の(?:指示|命令|ルール|指令)を(?:すべて)?(?:無視|忘れ)"),
    ("role", "ja", r"(?:あなたは今から|今からあなたは|これからあなたは)"),
    ("leak", "ja", r"システムプロンプトを(?:表示|教え|出力)"),
    # --- more Chinese, Russian; Turkish, Polish, Korean, Arabic, Hindi, Vietnamese, Indonesian
    ("override", "zh",
     r"(?:之前|以前|上面|原来|先前)的?[^。！？\n]{0,6}(?:指令|指示|规定|设定|要求)[^。！？\n]{0,8}"
     r"(?:作废|无效|取消|不再有效|不用再?遵守|不必遵守)"),
    ("leak", "zh",
     r"(?:原封不动|逐字|一字不漏|一字不差)[^。！？\n]{0,16}(?:系统提示|提示词|初始设定|初始配置|"
     r"隐藏的?(?:说明|规则|指令))|(?:系统提示|提示词|初始设定)[^。！？\n]{0,10}(?:原封不动|逐字|完整)"),
    ("leak", "ru",
     r"(?:покажи|раскрой|выведи|повтори|перепиши|скопируй)[^.!?\n]{0,25}(?:системный промпт|"
     r"начальн\w* инструкц|скрыт\w* (?:инструкц|настро))"),
    ("override", "tr",
     r"\b(?:önceki|yukarıdaki|önceden verilen|sana verilen|tüm|bütün)\b[^.!?\n]{0,30}?"
     r"(?:talimat|kural|yönerge|komut)\w*[^.!?\n]{0,15}?"
     r"(?:yok say|görmezden gel|unut|dikkate alma)"),
    ("leak", "tr",
     r"\bsistem (?:istem|komut|talimat)\w*[^.!?\n]{0,20}?(?:göster|yazdır|yaz\b|paylaş|tekrarla)"),
    ("role", "tr", r"\b(?:sansürsüz|filtresiz|kuralsız) bir (?:yapay zeka|asistan|model)"),
    ("override", "pl",
     r"\b(?:zignoruj|ignoruj|zapomnij)\b[^.!?\n]{0,30}?\b(?:instrukcj|polece|zasad|wytyczn)\w*"),
    ("leak", "pl",
     r"\b(?:pokaż|powtórz|wypisz|podaj|ujawnij|przepisz)\b[^.!?\n]{0,25}\bprompt\w* systemow"),
    ("override", "ko",
     r"(?:이전의?|앞의|위의?|기존의?)\s?(?:모든\s)?(?:지시|명령|규칙|지침)[^.!?\n]{0,10}(?:무시|잊어)"),
    ("leak", "ko", r"시스템 프롬프트[^.!?\n]{0,12}(?:보여|출력|알려|공개)"),
    ("override", "ar", r"تجاهل[^.!?\n]{0,20}(?:التعليمات|الأوامر|القواعد)"),
    ("leak", "ar", r"(?:موجه|تعليمات) النظام"),
    ("override", "hi", r"(?:निर्देशों|नियमों|आदेशों)[^।.!?\n]{0,20}(?:अनदेखा|भूल जाओ|नज़रअंदाज़)"),
    ("leak", "hi", r"सिस्टम प्रॉम्प्ट"),
    ("override", "vi", r"\bbỏ qua\b[^.!?\n]{0,25}\b(?:hướng dẫn|chỉ thị|quy tắc)\b"),
    ("leak", "vi", r"\blời nhắc hệ thống\b"),
    ("override", "id", r"\babaikan\b[^.!?\n]{0,25}\b(?:instruksi|perintah|aturan)\b"),
    ("leak", "id", r"\bprompt sistem\b"),
)  # fmt: skip
